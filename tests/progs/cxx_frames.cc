// cxx_frames.cc: C++ call sites for make_profile's "cxx" profile, whose
// names every report format must print demangled. Each way a name is found:
//   std::set_new_handler            libstdc++'s symbol table (mangled there)
//   tally_test::Box<int>::fill      DWARF's linkage name (a template's member)
//   (anonymous namespace)::Step::in inlined into fill: DWARF's name, qualified
//   tally_test::Widget::make const  DWARF's linkage name (a const member)
//   (anonymous namespace)::helper   internal linkage: GCC gives it no linkage
//                                   name, the symbol table has it
// Built with -g. The MARK comments are what tests/cli/test_cli_demangle.sh greps.
#include <cstddef>
#include <cstdint>
#include <new>

namespace tally_test
{

struct Trace {
    uintptr_t *f;
    size_t n, max;
    void add(uintptr_t a)
    {
        if (n < max)
            f[n++] = a;
    }
};

} // namespace tally_test

namespace
{

volatile int sink; // distinct stores: no identical-code folding of the sites

__attribute__((noinline, noclone)) uintptr_t here()
{
    uintptr_t a = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
    __asm__ volatile("" ::: "memory");
    return a;
}

struct Step {
    static inline __attribute__((always_inline)) void in(tally_test::Trace *t)
    {
        sink = 1;
        t->add(here()); /* MARK:cxx_step */
    }
};

} // namespace

namespace tally_test
{

template <typename T> struct Box {
    __attribute__((noinline, noclone)) static void fill(Trace *t, T v)
    {
        sink = static_cast<int>(v);
        // Frame 0 as if std::set_new_handler had allocated: a frame named by
        // libstdc++'s symbol table. +1: inside it.
        t->add(reinterpret_cast<uintptr_t>(&std::set_new_handler) + 1);
        Step::in(t); /* MARK:cxx_fill */
    }
};

struct Widget {
    int size;
    __attribute__((noinline, noclone)) void make(Trace *t, int n) const
    {
        sink = n + size;
        Box<int>::fill(t, n);
        t->add(here()); /* MARK:cxx_make */
    }
};

} // namespace tally_test

namespace
{

__attribute__((noinline, noclone)) void helper(tally_test::Trace *t)
{
    sink = 3;
    tally_test::Widget w{2};
    w.make(t, 1);
    t->add(here()); /* MARK:cxx_helper */
}

} // namespace

// The frames, innermost first, into out[max]; how many.
extern "C" size_t cxx_frames(uintptr_t *out, size_t max)
{
    tally_test::Trace t{out, 0, max};
    helper(&t);
    t.add(here()); /* MARK:cxx_frames */
    return t.n;
}
