// Paths that leave the preopen are refused, whichever path_* call they reach.
//
// Run with the fixture preopened at /sandbox; the runner puts outside.txt beside the sandbox
// directory, so every escape below would find something if it were let through. The fixture
// holds escape-link -> ../outside.txt, escape-dir-link -> .. and abs-link -> /etc/passwd.
//
// Expected errno: ENOTCAPABLE. Preview1 has no other errno for "outside the capability" (its
// witx: "Extension: Capabilities insufficient"), and the CloudABI resolution it comes from
// returns it; wasmtime returns EPERM instead (see DIFFERENCES.md). A path that steps outside
// and comes back is refused too (wasi-filesystem's path-resolution.md: it would leak whether
// directories outside exist). Creating a symlink whose text points outside is allowed: the
// check happens when a path is resolved through it.
#include "fs.h"

#define NOTCAP __WASI_ERRNO_NOTCAPABLE

static __wasi_fd_t sandbox;

static void open_checks(void) {
    __wasi_fd_t fd;
    expect_errno(open_file(sandbox, "../outside.txt", 0, &fd), NOTCAP, "path_open(../outside.txt)");
    expect_errno(open_dir(sandbox, "..", &fd), NOTCAP, "path_open(.., DIRECTORY)");
    expect_errno(open_file(sandbox, "sub/../../outside.txt", 0, &fd), NOTCAP,
                 "path_open(sub/../../outside.txt)");
    expect_errno(open_file(sandbox, "sub/../../sandbox/hello.txt", 0, &fd), NOTCAP,
                 "path_open(sub/../../sandbox/hello.txt), out and back in");
    expect_errno(open_file(sandbox, "/etc/passwd", 0, &fd), NOTCAP, "path_open(/etc/passwd)");
    expect_errno(open_file(sandbox, "/hello.txt", 0, &fd), NOTCAP,
                 "path_open(/hello.txt), absolute though the name exists inside");
    expect_errno(open_dir(sandbox, "/", &fd), NOTCAP, "path_open(/, DIRECTORY)");
    expect_errno(open_at(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "escape-link", 0,
                         RIGHTS_FILE_READ, 0, &fd),
                 NOTCAP, "path_open(escape-link, SYMLINK_FOLLOW)");
    expect_errno(open_at(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs-link", 0,
                         RIGHTS_FILE_READ, 0, &fd),
                 NOTCAP, "path_open(abs-link, SYMLINK_FOLLOW)");
    expect_errno(open_file(sandbox, "escape-dir-link/outside.txt", 0, &fd), NOTCAP,
                 "path_open(escape-dir-link/outside.txt), through a link in the middle");
    expect_errno(open_file(sandbox, "../created-outside.txt", __WASI_OFLAGS_CREAT, &fd), NOTCAP,
                 "path_open(../created-outside.txt, CREAT)");
    expect_errno(open_at(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "escape-link",
                         __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RIGHTS_FILE, 0, &fd),
                 NOTCAP, "path_open(escape-link, SYMLINK_FOLLOW, CREAT|TRUNC)");
    // Not escapes: the link itself is inside, and a path that stays inside.
    expect_errno(open_file(sandbox, "escape-link", 0, &fd), __WASI_ERRNO_LOOP,
                 "path_open(escape-link) without SYMLINK_FOLLOW");
    if (expect_ok(open_file(sandbox, "sub/../hello.txt", 0, &fd), "path_open(sub/../hello.txt)"))
        expect_ok(__wasi_fd_close(fd), "fd_close(sub/../hello.txt)");
}

static void other_path_checks(void) {
    __wasi_filestat_t st;
    expect_errno(__wasi_path_filestat_get(sandbox, 0, "..", &st), NOTCAP,
                 "path_filestat_get(..)");
    expect_errno(__wasi_path_filestat_get(sandbox, 0, "../outside.txt", &st), NOTCAP,
                 "path_filestat_get(../outside.txt)");
    expect_errno(__wasi_path_filestat_get(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                          "escape-link", &st),
                 NOTCAP, "path_filestat_get(escape-link, SYMLINK_FOLLOW)");
    expect_errno(__wasi_path_filestat_get(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs-link",
                                          &st),
                 NOTCAP, "path_filestat_get(abs-link, SYMLINK_FOLLOW)");
    if (expect_ok(__wasi_path_filestat_get(sandbox, 0, "escape-link", &st),
                  "path_filestat_get(escape-link), the link itself"))
        expect_filetype(st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "escape-link filetype");
    expect_errno(__wasi_path_filestat_set_times(sandbox, 0, "../outside.txt", 0, 0,
                                                __WASI_FSTFLAGS_MTIM_NOW),
                 NOTCAP, "path_filestat_set_times(../outside.txt)");

    char buf[64];
    __wasi_size_t n;
    if (expect_ok(__wasi_path_readlink(sandbox, "escape-link", (uint8_t *)buf, sizeof buf, &n),
                  "path_readlink(escape-link), reading the text is no escape"))
        expect_bytes(buf, n, "../outside.txt", "escape-link target");
    expect_errno(__wasi_path_readlink(sandbox, "escape-dir-link/escape-link", (uint8_t *)buf,
                                      sizeof buf, &n),
                 NOTCAP, "path_readlink(escape-dir-link/escape-link)");

    expect_errno(__wasi_path_create_directory(sandbox, "../made-outside"), NOTCAP,
                 "path_create_directory(../made-outside)");
    expect_errno(__wasi_path_create_directory(sandbox, "escape-dir-link/made-outside"), NOTCAP,
                 "path_create_directory(escape-dir-link/made-outside)");
    expect_errno(__wasi_path_remove_directory(sandbox, "../sandbox"), NOTCAP,
                 "path_remove_directory(../sandbox)");
    expect_errno(__wasi_path_unlink_file(sandbox, "../outside.txt"), NOTCAP,
                 "path_unlink_file(../outside.txt)");
    expect_errno(__wasi_path_unlink_file(sandbox, "escape-dir-link/outside.txt"), NOTCAP,
                 "path_unlink_file(escape-dir-link/outside.txt)");
    expect_errno(__wasi_path_rename(sandbox, "hello.txt", sandbox, "../stolen.txt"), NOTCAP,
                 "path_rename(hello.txt, ../stolen.txt)");
    expect_errno(__wasi_path_rename(sandbox, "../outside.txt", sandbox, "taken.txt"), NOTCAP,
                 "path_rename(../outside.txt, taken.txt)");
    expect_errno(__wasi_path_link(sandbox, 0, "hello.txt", sandbox, "../linked-outside"), NOTCAP,
                 "path_link(hello.txt, ../linked-outside)");
    expect_errno(__wasi_path_link(sandbox, 0, "../outside.txt", sandbox, "linked-in"), NOTCAP,
                 "path_link(../outside.txt, linked-in)");
    expect_errno(__wasi_path_symlink("hello.txt", sandbox, "../symlinked-outside"), NOTCAP,
                 "path_symlink(hello.txt, ../symlinked-outside)");
}

static void symlink_text_checks(void) {
    // A link whose text points outside can be made; resolving through it is what is refused.
    if (expect_ok(__wasi_path_symlink("../outside.txt", sandbox, "made-escape-link"),
                  "path_symlink(../outside.txt, made-escape-link)")) {
        __wasi_fd_t fd;
        expect_errno(open_at(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "made-escape-link", 0,
                             RIGHTS_FILE_READ, 0, &fd),
                     NOTCAP, "path_open(made-escape-link, SYMLINK_FOLLOW)");
        expect_ok(__wasi_path_unlink_file(sandbox, "made-escape-link"),
                  "path_unlink_file(made-escape-link)");
    }
    // An absolute link text cannot mean anything inside a preopen: refused at creation
    // (wasi-filesystem path-resolution.md: "not permitted").
    __wasi_errno_t err = __wasi_path_symlink("/etc/passwd", sandbox, "made-abs-link");
    expect_either(err, __WASI_ERRNO_PERM, NOTCAP, "path_symlink(/etc/passwd, made-abs-link)");
    if (err == __WASI_ERRNO_SUCCESS) (void)__wasi_path_unlink_file(sandbox, "made-abs-link");
}

int main(void) {
    checks_begin("sandbox: paths escaping the preopen are refused");
    sandbox = find_preopen(SANDBOX);
    open_checks();
    other_path_checks();
    symlink_text_checks();
    return checks_summary();
}
