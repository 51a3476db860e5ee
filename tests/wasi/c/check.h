// Checks for the WASI differential suite's C programs.
//
// Every check prints one line to stdout:
//   ok   <what> -> <errno>          or  FAIL <what> -> <errno> (spec: <errno>)
//   ok   <what> = <value>           or  FAIL <what> = <value> (spec: <value>)
//   ok   <what>                     or  FAIL <what>
// so two runtimes can be compared line by line, and a known deviation of the reference can be
// turned back into the spec's line (see differential.test.mjs). A label never contains " -> "
// or " = ", so the runner can split a line into label and value. Values that legitimately differ
// between runs (times, random bytes, inode numbers) are never printed, only properties of them.
// The programs call the raw wasi_snapshot_preview1 imports (wasi/api.h), not libc wrappers, so
// the errno seen is exactly the runtime's.
#ifndef WASI_TESTS_CHECK_H
#define WASI_TESTS_CHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int checks_run;
static int checks_failed;

static const char *const ERRNO_NAMES[] = {
    "success",         "E2BIG",        "EACCES",       "EADDRINUSE",     "EADDRNOTAVAIL",
    "EAFNOSUPPORT",    "EAGAIN",       "EALREADY",     "EBADF",          "EBADMSG",
    "EBUSY",           "ECANCELED",    "ECHILD",       "ECONNABORTED",   "ECONNREFUSED",
    "ECONNRESET",      "EDEADLK",      "EDESTADDRREQ", "EDOM",           "EDQUOT",
    "EEXIST",          "EFAULT",       "EFBIG",        "EHOSTUNREACH",   "EIDRM",
    "EILSEQ",          "EINPROGRESS",  "EINTR",        "EINVAL",         "EIO",
    "EISCONN",         "EISDIR",       "ELOOP",        "EMFILE",         "EMLINK",
    "EMSGSIZE",        "EMULTIHOP",    "ENAMETOOLONG", "ENETDOWN",       "ENETRESET",
    "ENETUNREACH",     "ENFILE",       "ENOBUFS",      "ENODEV",         "ENOENT",
    "ENOEXEC",         "ENOLCK",       "ENOLINK",      "ENOMEM",         "ENOMSG",
    "ENOPROTOOPT",     "ENOSPC",       "ENOSYS",       "ENOTCONN",       "ENOTDIR",
    "ENOTEMPTY",       "ENOTRECOVERABLE", "ENOTSOCK",  "ENOTSUP",        "ENOTTY",
    "ENXIO",           "EOVERFLOW",    "EOWNERDEAD",   "EPERM",          "EPIPE",
    "EPROTO",          "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE",        "EROFS",
    "ESPIPE",          "ESRCH",        "ESTALE",       "ETIMEDOUT",      "ETXTBSY",
    "EXDEV",           "ENOTCAPABLE",
};
_Static_assert(sizeof ERRNO_NAMES / sizeof ERRNO_NAMES[0] == __WASI_ERRNO_NOTCAPABLE + 1,
               "one name per wasi errno");

static inline const char *errno_name(__wasi_errno_t e) {
    static char unknown[24];
    if (e < sizeof ERRNO_NAMES / sizeof ERRNO_NAMES[0]) return ERRNO_NAMES[e];
    snprintf(unknown, sizeof unknown, "errno(%u)", (unsigned)e);
    return unknown;
}

static inline const char *filetype_name(__wasi_filetype_t t) {
    static const char *const names[] = {"UNKNOWN",     "BLOCK_DEVICE", "CHARACTER_DEVICE",
                                        "DIRECTORY",   "REGULAR_FILE", "SOCKET_DGRAM",
                                        "SOCKET_STREAM", "SYMBOLIC_LINK"};
    return t < sizeof names / sizeof names[0] ? names[t] : "invalid";
}

// The check's description, formatted once per check.
static char check_label[512];
#define LABEL(fmt)                                                      \
    do {                                                                \
        va_list args;                                                   \
        va_start(args, fmt);                                            \
        vsnprintf(check_label, sizeof check_label, fmt, args);          \
        va_end(args);                                                   \
    } while (0)

static inline bool record(bool passed) {
    checks_run++;
    if (!passed) checks_failed++;
    return passed;
}

// Expects the errno `want` (0 for success).
__attribute__((format(printf, 3, 4))) static inline bool expect_errno(__wasi_errno_t got,
                                                               __wasi_errno_t want,
                                                               const char *fmt, ...) {
    LABEL(fmt);
    if (got == want)
        printf("ok   %s -> %s\n", check_label, errno_name(got));
    else
        printf("FAIL %s -> %s (spec: %s)\n", check_label, errno_name(got), errno_name(want));
    return record(got == want);
}

#define expect_ok(got, ...) expect_errno((got), __WASI_ERRNO_SUCCESS, __VA_ARGS__)

// Expects one of two errnos: for calls where the specification (or the POSIX call it defers
// to) allows either. The line shows which one was seen, so the runtimes must still agree.
__attribute__((format(printf, 4, 5))) static inline bool expect_either(__wasi_errno_t got,
                                                                __wasi_errno_t a,
                                                                __wasi_errno_t b,
                                                                const char *fmt, ...) {
    LABEL(fmt);
    bool passed = got == a || got == b;
    if (passed)
        printf("ok   %s -> %s\n", check_label, errno_name(got));
    else
        printf("FAIL %s -> %s (spec: %s or %s)\n", check_label, errno_name(got), errno_name(a),
               errno_name(b));
    return record(passed);
}

__attribute__((format(printf, 3, 4))) static inline bool expect_u64(uint64_t got, uint64_t want,
                                                             const char *fmt, ...) {
    LABEL(fmt);
    if (got == want)
        printf("ok   %s = %" PRIu64 "\n", check_label, got);
    else
        printf("FAIL %s = %" PRIu64 " (spec: %" PRIu64 ")\n", check_label, got, want);
    return record(got == want);
}

// Compares `len` bytes at `got` with the C string `want`; prints them as a quoted string.
__attribute__((format(printf, 4, 5))) static inline bool expect_bytes(const void *got, size_t len,
                                                               const char *want,
                                                               const char *fmt, ...) {
    LABEL(fmt);
    bool passed = len == strlen(want) && memcmp(got, want, len) == 0;
    printf("%s %s = \"", passed ? "ok  " : "FAIL", check_label);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = ((const unsigned char *)got)[i];
        if (c == '\n')
            printf("\\n");
        else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf(passed ? "\"\n" : "\" (spec: \"%s\")\n", want);
    return record(passed);
}

__attribute__((format(printf, 3, 4))) static inline bool expect_filetype(__wasi_filetype_t got,
                                                                  __wasi_filetype_t want,
                                                                  const char *fmt, ...) {
    LABEL(fmt);
    if (got == want)
        printf("ok   %s = %s\n", check_label, filetype_name(got));
    else
        printf("FAIL %s = %s (spec: %s)\n", check_label, filetype_name(got), filetype_name(want));
    return record(got == want);
}

// A property that holds or not; the label states it ("mtime moved forward").
__attribute__((format(printf, 2, 3))) static inline bool expect_true(bool holds, const char *fmt, ...) {
    LABEL(fmt);
    printf("%s %s\n", holds ? "ok  " : "FAIL", check_label);
    return record(holds);
}

// A step the rest of the program depends on: stop here (exit 2) if it fails.
__attribute__((format(printf, 2, 3))) static inline void require_ok(__wasi_errno_t got,
                                                             const char *fmt, ...) {
    LABEL(fmt);
    if (record(got == __WASI_ERRNO_SUCCESS)) {
        printf("ok   %s -> success\n", check_label);
        return;
    }
    printf("FAIL %s -> %s (spec: success)\n", check_label, errno_name(got));
    fprintf(stderr, "cannot go on after: %s\n", check_label);
    exit(2);
}

// The program's exit status: 0 when every check held, 1 otherwise (the count on stderr).
static inline int checks_summary(void) {
    fflush(stdout);
    if (checks_failed) fprintf(stderr, "%d of %d checks failed\n", checks_failed, checks_run);
    return checks_failed ? 1 : 0;
}

// Line-buffered stdout whatever the runtime says stdout is, so output streams the same way.
static inline void checks_begin(const char *program) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("# %s\n", program);
}

#endif
