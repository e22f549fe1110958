// attach_prog_cxx: the C++ twin of attach_prog.c for tally attach
// (tests/cli/test_cli_attach.sh): new and delete through libstdc++'s
// operators. Before the attach it allocates with new and new[]; on "go" it
// deletes those (libstdc++'s blocks: no error may be reported) and leaks
// from named functions: new char[1500], 3 x new Node (40 bytes each) and
// a new std::string of 100 characters (32 bytes, and its 101-byte buffer,
// indirectly lost). Then "done". "exit" exits with status 4.
#include <cstdio>
#include <cstring>
#include <string>

struct Node {
    Node *next;
    long pad[4];
};
static_assert(sizeof(Node) == 40, "Node is 40 bytes");

static Node *keep_node;
static int *keep_array;

__attribute__((noinline)) static void leak_array()
{
    char *volatile p = new char[1500];
    std::memset(p, 1, 1500);
}

__attribute__((noinline)) static void leak_nodes()
{
    for (int i = 0; i < 3; i++) {
        Node *volatile n = new Node();
        (void)n;
    }
}

__attribute__((noinline)) static void leak_string()
{
    std::string *volatile s = new std::string(100, 'x');
    (void)s;
}

__attribute__((noinline)) static void churn()
{
    Node *n = new Node();
    delete n;
}

__attribute__((noinline)) static void clear_stack()
{
    volatile char buf[8192];
    std::memset((char *)buf, 0, sizeof buf);
}

int main()
{
    keep_node = new Node();
    keep_array = new int[100];
    std::printf("ready\n");
    std::fflush(stdout);
    char line[64];
    while (std::fgets(line, sizeof line, stdin)) {
        if (std::strncmp(line, "go", 2) == 0) {
            delete keep_node;
            delete[] keep_array;
            leak_array();
            leak_nodes();
            leak_string();
            churn();
            clear_stack();
        } else if (std::strncmp(line, "exit", 4) == 0) {
            return 4;
        }
        std::printf("done\n");
        std::fflush(stdout);
    }
    return 1;
}
