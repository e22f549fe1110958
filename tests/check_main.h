/* check_main.h: what every Check test program shares. */
#ifndef TALLY_CHECK_MAIN_H
#define TALLY_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs the suite and turns its verdict into an exit status. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Captures what the code under test writes on stderr. */
typedef struct {
    FILE *file;
    int saved_fd;
} stderr_capture;

static inline void capture_stderr(stderr_capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    ck_assert_ptr_nonnull(c->file);
    c->saved_fd = dup(STDERR_FILENO);
    dup2(fileno(c->file), STDERR_FILENO);
}

/* Restores stderr and returns what was written (static buffer). */
static inline const char *captured_stderr(stderr_capture *c)
{
    static char text[16384];
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    rewind(c->file);
    size_t n = fread(text, 1, sizeof text - 1, c->file);
    text[n] = '\0';
    fclose(c->file);
    return text;
}

#endif
