/* leak_threads MODE: blocks held only by another thread, which is still
 * running when main returns and the process exits.
 *   stack   a 555-byte block held in the thread's stack (a volatile local)
 *           while it waits in pause(): still reachable
 *   regs    a 556-byte block held only in a callee-saved register (r15) of
 *           a thread that spins, every copy in memory overwritten (x86-64
 *           only; elsewhere the program exits 77): still reachable
 *   tls     a 557-byte block held in the thread's own __thread variable:
 *           still reachable
 *   joined  a 558-byte block held in the stack of a thread that has
 *           exited and been joined: its stack is no root, definitely lost
 * Beside it, main drops a 99-byte block: definitely lost.
 * A running thread's TLS dtv (glibc's, allocated under
 * _dl_allocate_tls) is live at exit too; tally's default suppressions
 * hide it and the recorded answer leaves it out. */
#include "leak_common.h"

#include <pthread.h>
#include <sched.h>

static volatile int ready;
__thread void *thread_tls; /* not static: the store must stay */

static void wait_ready(void)
{
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void *hold_on_stack(void *arg)
{
    (void)arg;
    void *volatile p = lk_escape(malloc(555));
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return (void *)p;
}

static void *hold_in_tls(void *arg)
{
    (void)arg;
    thread_tls = lk_escape(malloc(557));
    __asm__ volatile("" : : "r"(&thread_tls) : "memory");
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return NULL;
}

static void *hold_then_exit(void *arg)
{
    (void)arg;
    void *volatile p = lk_escape(malloc(558));
    return (void *)((char *)p - (char *)p); /* NULL, and p stays in the stack */
}

#if defined(__x86_64__)
/* hold_in_register: malloc(556), keep the result in r15 only, zero the 64
 * KiB below the stack pointer (the dead frames malloc and whatever it called
 * used) and every caller-saved register, say ready, then spin for ever. */
void *hold_in_register(void *arg);
int leak_regs_ready;
__asm__(".text\n"
        ".type hold_in_register, @function\n"
        "hold_in_register:\n"
        "    pushq %rbp\n"
        "    movl $556, %edi\n"
        "    call malloc@PLT\n"
        "    movq %rax, %r15\n"
        "    xorl %eax, %eax\n"
        "    subq $65536, %rsp\n"
        "    movq %rsp, %rdi\n"
        "    movl $8192, %ecx\n"
        "    rep stosq\n"
        "    addq $65536, %rsp\n"
        "    xorl %ecx, %ecx\n"
        "    xorl %edx, %edx\n"
        "    xorl %esi, %esi\n"
        "    xorl %edi, %edi\n"
        "    xorl %r8d, %r8d\n"
        "    xorl %r9d, %r9d\n"
        "    xorl %r10d, %r10d\n"
        "    xorl %r11d, %r11d\n"
        "    pxor %xmm0, %xmm0\n"
        "    movl $1, leak_regs_ready(%rip)\n"
        "1:  pause\n"
        "    jmp 1b\n"
        ".size hold_in_register, .-hold_in_register\n");
#endif

LK_NOINLINE static int run(int argc, char **argv)
{
    pthread_t t;
    if (lk_mode(argc, argv, "stack")) {
        if (pthread_create(&t, NULL, hold_on_stack, NULL) != 0)
            return 3;
        wait_ready();
    } else if (lk_mode(argc, argv, "tls")) {
        if (pthread_create(&t, NULL, hold_in_tls, NULL) != 0)
            return 3;
        wait_ready();
    } else if (lk_mode(argc, argv, "joined")) {
        if (pthread_create(&t, NULL, hold_then_exit, NULL) != 0 || pthread_join(t, NULL) != 0)
            return 3;
    } else if (lk_mode(argc, argv, "regs")) {
#if defined(__x86_64__)
        if (pthread_create(&t, NULL, hold_in_register, NULL) != 0)
            return 3;
        while (!__atomic_load_n(&leak_regs_ready, __ATOMIC_ACQUIRE))
            sched_yield();
#else
        return 77;
#endif
    } else {
        return lk_usage("leak_threads");
    }
    lk_escape(malloc(99));
    return 0;
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    lk_scrub();
    return rc;
}
