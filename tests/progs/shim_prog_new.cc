// shim_prog_new: C++ operator new/delete in every variant under the shim.
// Leaks 100 (new[]) + 48 (aligned new) + 16 (nothrow new[]) = 164 bytes in 3.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

struct alignas(64) Wide {
    char bytes[64];
};

static void *volatile keep[8];

int main(int argc, char **argv)
{
    bool mismatch = argc > 1 && !strcmp(argv[1], "mismatch");
    delete new int(1);
    delete[] new int[10];
    delete new (std::nothrow) int(2);
    delete[] new (std::nothrow) int[3];
    delete new Wide;      // aligned new, sized aligned delete
    delete[] new Wide[3]; // aligned new[]
    ::operator delete(::operator new(40), 40);
    ::operator delete[](::operator new[](24), 24);
    ::operator delete(::operator new(32, std::align_val_t(256)), std::align_val_t(256));
    ::operator delete(::operator new(32, std::align_val_t(256), std::nothrow),
                      std::align_val_t(256), std::nothrow);
    ::operator delete[](::operator new[](32, std::align_val_t(128), std::nothrow),
                        std::align_val_t(128), std::nothrow);
    ::operator delete(::operator new(8, std::nothrow), std::nothrow);
    ::operator delete[](::operator new[](8, std::nothrow), std::nothrow);
    ::operator delete(::operator new(64, std::align_val_t(64)), 64, std::align_val_t(64));
    ::operator delete[](::operator new[](64, std::align_val_t(64)), 64, std::align_val_t(64));
    {
        std::vector<std::string> v;
        for (int i = 0; i < 1000; i++)
            v.push_back(std::string(50, 'x') + std::to_string(i));
    }
    try {
        throw std::runtime_error("an exception allocates");
    } catch (const std::exception &) {
    }
    bool caught = false;
    try {
        volatile size_t huge = SIZE_MAX / 4;
        keep[7] = new char[huge];
    } catch (const std::bad_alloc &) {
        caught = true;
    }
    if (!caught) {
        std::fprintf(stderr, "no bad_alloc\n");
        return 3;
    }
    keep[0] = new char[100];
    keep[1] = ::operator new(48, std::align_val_t(128));
    keep[2] = new (std::nothrow) char[16];
    if (mismatch) {
        int *volatile p = new int(5);
        std::free(p); // new, then free
        char *volatile q = static_cast<char *>(std::malloc(8));
        delete q; // malloc, then delete
        int *volatile r = new int[4];
        delete r; // new[], then delete
    }
    std::printf("done\n");
    return 0;
}
