// leak_cxx MODE: C++ objects. Each mode states memcheck's answer (its
// default --leak-check-heuristics=all included: a pointer just past a new[]
// cookie, or to the second base of an object with vtables, makes the block
// "still reachable", not "possibly lost").
//   vtable      a Derived (vtable pointer, 56 bytes) dropped: definite 56 in 1;
//               another kept by a Base* global: reachable 56 in 1
//   cookie      new Counted[5] (a destructor, so an 8-byte count before the
//               array: 8 + 5 x 24 = 128 bytes) kept by a global that points
//               past the count: reachable 128 in 1 (newarray heuristic);
//               new Counted[3] dropped: definite 80 in 1; new char[77]
//               dropped (no cookie): definite 77 in 1
//   multiple    a Both (two bases with vtables, 40 bytes) kept only as its
//               second base (a pointer 16 bytes in): reachable 40 in 1
//               (multipleinheritance heuristic)
//   containers  a Holder owning a std::vector<int> (10 ints reserved: 40
//               bytes), a std::string of 40 chars (41 bytes) and a
//               std::map<int, Value> of 5 nodes (128 bytes each), dropped.
//               The map's nodes point back into the Holder (their parent
//               is the map's header), so the Holder and its nodes form a
//               cycle: memcheck calls the one with the lowest address
//               definitely lost. The Holder is 128 bytes too, so the bytes
//               per class do not depend on which one that is:
//               definite 128 in 1, indirect 40 + 41 + 5 x 128 = 721 in 7.
#include "leak_common.h"

#include <array>
#include <map>
#include <string>
#include <vector>

struct Base {
    virtual ~Base() {}
    long base_field = 1;
};

struct Derived : Base {
    char payload[40] = {};
}; // 8 (vptr) + 8 + 40 = 56

struct Counted {
    long a = 1, b = 2, c = 3;
    ~Counted()
    {
        lk_sink = this;
    }
}; // 24, non-trivial destructor: new[] stores a cookie

struct Left {
    virtual ~Left() {}
    long l = 1;
};

struct Right {
    virtual ~Right() {}
    long r = 2;
};

struct Both : Left, Right {
    long both = 3;
}; // Left (16) + Right (16) + 8 = 40; a Right* points 16 bytes in

struct Value {
    std::array<char, 92> bytes{};
}; // the node: 32 (rb-tree links) + 4 (key) + 92 = 128

struct Holder {
    std::vector<int> v;
    std::string s;
    std::map<int, Value> m;
    char pad[24] = {};
}; // 24 + 32 + 48 + 24 = 128

static_assert(sizeof(Derived) == 56, "Derived's size is in the expected answer");
static_assert(sizeof(Counted) == 24, "Counted's size is in the expected answer");
static_assert(sizeof(Both) == 40, "Both's size is in the expected answer");
static_assert(sizeof(Holder) == 128, "Holder's size is in the expected answer");
static_assert(sizeof(std::pair<const int, Value>) == 96, "a map node is 32 + 96 bytes");

Base *kept_base;
Counted *kept_array;
Right *kept_right;

LK_NOINLINE static void vtable()
{
    lk_escape(new Derived);
    kept_base = static_cast<Base *>(lk_escape(new Derived));
}

LK_NOINLINE static void cookie()
{
    kept_array = static_cast<Counted *>(lk_escape(new Counted[5]));
    lk_escape(new Counted[3]);
    lk_escape(new char[77]);
}

LK_NOINLINE static void multiple()
{
    Both *b = new Both;
    kept_right = static_cast<Right *>(b);
    lk_escape(b);
    b = nullptr;
}

LK_NOINLINE static void containers()
{
    Holder *h = static_cast<Holder *>(lk_escape(new Holder));
    h->v.reserve(10);
    for (int i = 0; i < 10; i++)
        h->v.push_back(i);
    h->s.assign(40, 'x');
    for (int i = 0; i < 5; i++)
        h->m[i].bytes[0] = static_cast<char>(i);
    h = nullptr;
}

LK_NOINLINE static int run(int argc, char **argv)
{
    if (lk_mode(argc, argv, "vtable"))
        vtable();
    else if (lk_mode(argc, argv, "cookie"))
        cookie();
    else if (lk_mode(argc, argv, "multiple"))
        multiple();
    else if (lk_mode(argc, argv, "containers"))
        containers();
    else
        return lk_usage("leak_cxx");
    return 0;
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    lk_scrub();
    return rc;
}
