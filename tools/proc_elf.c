/* proc_elf.c: where a function of a mapped object is in another process.
 *
 * The object's load bias comes from /proc/PID/maps (its mapping at file
 * offset 0, less its first PT_LOAD's page), the symbol's value from the
 * dynamic symbol table of the same file on disk (through /proc/PID/root,
 * so that a process in another mount namespace is read right). glibc 2.34
 * and later define dlopen in libc.so.6 under two versions at one
 * address: either is the function. */
#include <config.h>

#include "inject.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The lowest mapping of the object at offset 0, and its path. */
static int find_mapping(pid_t pid, const char *object, uint64_t *start, char *path, size_t cap)
{
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(name, "re");
    if (!f)
        return errno;
    char line[PATH_MAX + 128];
    int rc = ENOENT;
    while (fgets(line, sizeof line, f)) {
        uint64_t lo, hi, off;
        int pos = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n", &lo, &hi, &off,
                   &pos) < 3 ||
            pos == 0)
            continue;
        char *p = line + pos;
        p[strcspn(p, "\n")] = 0;
        if (*p != '/' || !strstr(p, object) || off != 0)
            continue;
        *start = lo;
        snprintf(path, cap, "%s", p);
        rc = 0;
        break;
    }
    fclose(f);
    return rc;
}

bool proc_maps_has(pid_t pid, const char *object)
{
    uint64_t start;
    char path[PATH_MAX];
    return find_mapping(pid, object, &start, path, sizeof path) == 0;
}

/* The symbol's st_value and the first PT_LOAD's page, from the file. */
static int elf_symbol(const char *file, const char *name, uint64_t *value, uint64_t *first_load)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return ENOEXEC;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED)
        return errno;
    int rc = ENOEXEC;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        goto out;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
    *first_load = UINT64_MAX;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < *first_load)
            *first_load = ph[i].p_vaddr & ~(uint64_t)0xfff;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    rc = ENOENT;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
            break;
        const Elf64_Sym *syms = (const Elf64_Sym *)(img + sh[i].sh_offset);
        const char *strtab = (const char *)img + strs->sh_offset;
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < n; k++) {
            if (syms[k].st_name >= strs->sh_size || syms[k].st_shndx == SHN_UNDEF ||
                ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC)
                continue;
            const char *s = strtab + syms[k].st_name;
            if (strnlen(s, strs->sh_size - syms[k].st_name) == strs->sh_size - syms[k].st_name)
                continue; /* not terminated inside the table */
            if (strcmp(s, name) == 0) {
                *value = syms[k].st_value;
                rc = 0;
                goto out;
            }
        }
    }
out:
    munmap((void *)img, size);
    return rc;
}

int proc_symbol(pid_t pid, const char *object, const char *name, uint64_t *addr, char *path_out,
                size_t cap)
{
    uint64_t start;
    char path[PATH_MAX];
    if (path_out && cap)
        *path_out = 0;
    int rc = find_mapping(pid, object, &start, path, sizeof path);
    if (rc != 0)
        return rc;
    if (path_out)
        snprintf(path_out, cap, "%s", path);
    char file[PATH_MAX + 32];
    snprintf(file, sizeof file, "/proc/%d/root%s", (int)pid, path);
    uint64_t value, first_load;
    rc = elf_symbol(file, name, &value, &first_load);
    if (rc != 0 && rc != ENOENT)
        rc = elf_symbol(path, name, &value, &first_load);
    if (rc != 0)
        return rc;
    *addr = start - first_load + value;
    return 0;
}
