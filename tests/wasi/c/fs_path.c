// path_* inside the preopen: success and error paths.
// Run with the fixture preopened at /sandbox. Leaves behind: made/ (with inner/), hard-link
// (a second link to hello.txt, rewritten by a rename), kept-link -> hello.txt, dangling ->
// no-such-target, and hello.txt with fixed timestamps. Removes what else it creates.
#include "fs.h"

#define T_ATIM UINT64_C(1000000000123456789)
#define T_MTIM UINT64_C(1234567890987654321)

static __wasi_fd_t sandbox;

static __wasi_errno_t stat_at(const char *path, __wasi_lookupflags_t flags, __wasi_filestat_t *st) {
    return __wasi_path_filestat_get(sandbox, flags, path, st);
}

static void create_directory_checks(void) {
    expect_ok(__wasi_path_create_directory(sandbox, "made"), "path_create_directory(made)");
    expect_errno(__wasi_path_create_directory(sandbox, "made"), __WASI_ERRNO_EXIST,
                 "path_create_directory(made) again");
    expect_ok(__wasi_path_create_directory(sandbox, "made/inner"),
              "path_create_directory(made/inner)");
    expect_errno(__wasi_path_create_directory(sandbox, "no/such/dir"), __WASI_ERRNO_NOENT,
                 "path_create_directory(no/such/dir)");
    expect_errno(__wasi_path_create_directory(sandbox, "hello.txt/dir"), __WASI_ERRNO_NOTDIR,
                 "path_create_directory(hello.txt/dir)");
    expect_errno(__wasi_path_create_directory(sandbox, "hello.txt"), __WASI_ERRNO_EXIST,
                 "path_create_directory(hello.txt), a file");
}

static void filestat_checks(void) {
    __wasi_filestat_t st;
    expect_ok(stat_at("hello.txt", 0, &st), "path_filestat_get(hello.txt)");
    expect_filetype(st.filetype, __WASI_FILETYPE_REGULAR_FILE, "hello.txt filetype");
    expect_u64(st.size, 13, "hello.txt size");
    expect_u64(st.nlink, 1, "hello.txt nlink");
    expect_ok(stat_at("sub", 0, &st), "path_filestat_get(sub)");
    expect_filetype(st.filetype, __WASI_FILETYPE_DIRECTORY, "sub filetype");
    expect_ok(stat_at("link-to-hello", 0, &st), "path_filestat_get(link-to-hello)");
    expect_filetype(st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "link-to-hello filetype");
    expect_u64(st.size, 9, "link-to-hello size (its target's length)");
    expect_ok(stat_at("link-to-hello", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, &st),
              "path_filestat_get(link-to-hello, SYMLINK_FOLLOW)");
    expect_filetype(st.filetype, __WASI_FILETYPE_REGULAR_FILE, "followed filetype");
    expect_u64(st.size, 13, "followed size");
    expect_ok(stat_at("link-to-sub/nested.txt", 0, &st),
              "path_filestat_get(link-to-sub/nested.txt), symlink in the middle");
    expect_u64(st.size, 7, "nested.txt size");
    expect_ok(stat_at("sub/../hello.txt", 0, &st), "path_filestat_get(sub/../hello.txt)");
    expect_ok(stat_at("./sub/./nested.txt", 0, &st), "path_filestat_get(./sub/./nested.txt)");
    expect_errno(stat_at("missing", 0, &st), __WASI_ERRNO_NOENT, "path_filestat_get(missing)");
    expect_errno(stat_at("hello.txt/", 0, &st), __WASI_ERRNO_NOTDIR,
                 "path_filestat_get(hello.txt/)");
    expect_errno(stat_at("hello.txt/x", 0, &st), __WASI_ERRNO_NOTDIR,
                 "path_filestat_get(hello.txt/x)");
    expect_errno(stat_at("", 0, &st), __WASI_ERRNO_NOENT, "path_filestat_get(\"\")");
}

static void set_times_checks(void) {
    __wasi_filestat_t st;
    expect_ok(__wasi_path_filestat_set_times(sandbox, 0, "hello.txt", T_ATIM, T_MTIM,
                                             __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
              "path_filestat_set_times(hello.txt, ATIM|MTIM)");
    expect_ok(stat_at("hello.txt", 0, &st), "path_filestat_get after set_times");
    expect_true(st.atim == T_ATIM, "atim is exactly the value set");
    expect_true(st.mtim == T_MTIM, "mtim is exactly the value set");
    expect_ok(__wasi_path_filestat_set_times(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                             "link-to-hello", T_MTIM, T_ATIM,
                                             __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
              "path_filestat_set_times(link-to-hello, SYMLINK_FOLLOW)");
    expect_ok(stat_at("hello.txt", 0, &st), "path_filestat_get(hello.txt) after that");
    expect_true(st.mtim == T_ATIM, "the link's target got the times");
    expect_ok(__wasi_path_filestat_set_times(sandbox, 0, "hello.txt", T_ATIM, T_MTIM,
                                             __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
              "path_filestat_set_times(hello.txt) back");
    expect_errno(__wasi_path_filestat_set_times(sandbox, 0, "missing", T_ATIM, T_MTIM,
                                                __WASI_FSTFLAGS_ATIM),
                 __WASI_ERRNO_NOENT, "path_filestat_set_times(missing)");
    expect_errno(__wasi_path_filestat_set_times(sandbox, 0, "hello.txt", T_ATIM, T_MTIM,
                                                __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
                 __WASI_ERRNO_INVAL, "path_filestat_set_times(MTIM|MTIM_NOW)");
}

static void link_checks(void) {
    __wasi_filestat_t st;
    expect_ok(__wasi_path_link(sandbox, 0, "hello.txt", sandbox, "hard-link"),
              "path_link(hello.txt, hard-link)");
    expect_ok(stat_at("hello.txt", 0, &st), "path_filestat_get(hello.txt)");
    expect_u64(st.nlink, 2, "hello.txt nlink after path_link");
    uint64_t ino = st.ino;
    expect_ok(stat_at("hard-link", 0, &st), "path_filestat_get(hard-link)");
    expect_true(st.ino == ino && st.size == 13, "hard-link is the same file as hello.txt");
    expect_errno(__wasi_path_link(sandbox, 0, "hello.txt", sandbox, "hard-link"),
                 __WASI_ERRNO_EXIST, "path_link onto an existing name");
    expect_errno(__wasi_path_link(sandbox, 0, "missing", sandbox, "new-link"), __WASI_ERRNO_NOENT,
                 "path_link(missing)");
    expect_errno(__wasi_path_link(sandbox, 0, "sub", sandbox, "sub-link"), __WASI_ERRNO_PERM,
                 "path_link(sub), a directory");
    expect_errno(__wasi_path_link(sandbox, 0, "hello.txt", sandbox, "no/such/link"),
                 __WASI_ERRNO_NOENT, "path_link into a missing directory");
}

static void open_checks(void) {
    __wasi_fd_t fd;
    char buf[64];
    __wasi_size_t n;
    expect_errno(open_file(sandbox, "missing", 0, &fd), __WASI_ERRNO_NOENT,
                 "path_open(missing)");
    expect_errno(open_file(sandbox, "hello.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, &fd),
                 __WASI_ERRNO_EXIST, "path_open(hello.txt, CREAT|EXCL)");
    expect_errno(open_file(sandbox, "hello.txt", __WASI_OFLAGS_DIRECTORY, &fd),
                 __WASI_ERRNO_NOTDIR, "path_open(hello.txt, DIRECTORY)");
    expect_errno(open_at(sandbox, 0, "sub", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd), __WASI_ERRNO_ISDIR,
                 "path_open(sub) for writing");
    expect_errno(open_at(sandbox, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                         __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, &fd),
                 __WASI_ERRNO_ISDIR, "path_open(sub, DIRECTORY) for reading and writing");
    expect_errno(open_file(sandbox, "hello.txt/", 0, &fd), __WASI_ERRNO_NOTDIR,
                 "path_open(hello.txt/)");
    expect_errno(open_file(sandbox, "", 0, &fd), __WASI_ERRNO_NOENT, "path_open(\"\")");
    expect_errno(open_file(sandbox, "link-to-hello", 0, &fd), __WASI_ERRNO_LOOP,
                 "path_open(link-to-hello) without SYMLINK_FOLLOW");
    if (expect_ok(open_at(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link-to-hello", 0,
                          RIGHTS_FILE_READ, 0, &fd),
                  "path_open(link-to-hello, SYMLINK_FOLLOW)")) {
        expect_ok(pread_all(fd, buf, sizeof buf, 0, &n), "fd_pread(through the link)");
        expect_bytes(buf, n, "hello, world\n", "content through the link");
        expect_ok(__wasi_fd_close(fd), "fd_close(link-to-hello)");
    }
    if (expect_ok(open_dir(sandbox, ".", &fd), "path_open(., DIRECTORY)"))
        expect_ok(__wasi_fd_close(fd), "fd_close(.)");
    if (expect_ok(open_dir(sandbox, "sub/", &fd), "path_open(sub/, DIRECTORY)"))
        expect_ok(__wasi_fd_close(fd), "fd_close(sub/)");
    expect_errno(open_dir(sandbox, "link-to-sub", &fd), __WASI_ERRNO_LOOP,
                 "path_open(link-to-sub, DIRECTORY) without SYMLINK_FOLLOW");
    if (expect_ok(open_at(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link-to-sub",
                          __WASI_OFLAGS_DIRECTORY, RIGHTS_DIR, 0, &fd),
                  "path_open(link-to-sub, DIRECTORY, SYMLINK_FOLLOW)"))
        expect_ok(__wasi_fd_close(fd), "fd_close(link-to-sub)");

    // CREAT makes the file; TRUNC empties it on the next open.
    require_ok(open_file(sandbox, "new.txt", __WASI_OFLAGS_CREAT, &fd), "path_open(new.txt, CREAT)");
    require_ok(write_str(fd, "0123456789", &n), "fd_write(new.txt)");
    expect_ok(__wasi_fd_close(fd), "fd_close(new.txt)");
    require_ok(open_file(sandbox, "new.txt", __WASI_OFLAGS_TRUNC, &fd), "path_open(new.txt, TRUNC)");
    __wasi_filestat_t st;
    expect_ok(__wasi_fd_filestat_get(fd, &st), "fd_filestat_get(new.txt)");
    expect_u64(st.size, 0, "size after TRUNC");
    require_ok(write_str(fd, "new\n", &n), "fd_write(new.txt) again");
    expect_ok(__wasi_fd_close(fd), "fd_close(new.txt) again");
    // A relative open from a directory fd other than the preopen.
    __wasi_fd_t sub;
    require_ok(open_dir(sandbox, "sub", &sub), "path_open(sub, DIRECTORY)");
    if (expect_ok(open_file(sub, "nested.txt", 0, &fd), "path_open(sub fd, nested.txt)")) {
        expect_ok(pread_all(fd, buf, sizeof buf, 0, &n), "fd_pread(nested.txt)");
        expect_bytes(buf, n, "nested\n", "nested.txt content");
        expect_ok(__wasi_fd_close(fd), "fd_close(nested.txt)");
    }
    expect_ok(__wasi_fd_close(sub), "fd_close(sub)");
}

static void readlink_symlink_checks(void) {
    char buf[64];
    __wasi_size_t n;
    expect_ok(__wasi_path_readlink(sandbox, "link-to-hello", (uint8_t *)buf, sizeof buf, &n),
              "path_readlink(link-to-hello)");
    expect_bytes(buf, n, "hello.txt", "link-to-hello target");
    expect_ok(__wasi_path_readlink(sandbox, "link-to-hello", (uint8_t *)buf, 4, &n),
              "path_readlink(link-to-hello, 4-byte buffer)");
    expect_bytes(buf, n, "hell", "target truncated to the buffer");
    expect_errno(__wasi_path_readlink(sandbox, "hello.txt", (uint8_t *)buf, sizeof buf, &n),
                 __WASI_ERRNO_INVAL, "path_readlink(hello.txt), not a link");
    expect_errno(__wasi_path_readlink(sandbox, "sub", (uint8_t *)buf, sizeof buf, &n),
                 __WASI_ERRNO_INVAL, "path_readlink(sub), not a link");
    expect_errno(__wasi_path_readlink(sandbox, "missing", (uint8_t *)buf, sizeof buf, &n),
                 __WASI_ERRNO_NOENT, "path_readlink(missing)");

    expect_ok(__wasi_path_symlink("hello.txt", sandbox, "new-link"),
              "path_symlink(hello.txt, new-link)");
    expect_ok(__wasi_path_readlink(sandbox, "new-link", (uint8_t *)buf, sizeof buf, &n),
              "path_readlink(new-link)");
    expect_bytes(buf, n, "hello.txt", "new-link target");
    expect_errno(__wasi_path_symlink("hello.txt", sandbox, "new-link"), __WASI_ERRNO_EXIST,
                 "path_symlink onto an existing name");
    expect_errno(__wasi_path_symlink("hello.txt", sandbox, "no/such/link"), __WASI_ERRNO_NOENT,
                 "path_symlink into a missing directory");
    // A dangling link is allowed; following it finds nothing.
    expect_ok(__wasi_path_symlink("no-such-target", sandbox, "dangling"),
              "path_symlink(no-such-target, dangling)");
    __wasi_filestat_t st;
    expect_errno(stat_at("dangling", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, &st), __WASI_ERRNO_NOENT,
                 "path_filestat_get(dangling, SYMLINK_FOLLOW)");
    expect_ok(stat_at("dangling", 0, &st), "path_filestat_get(dangling)");
    expect_filetype(st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "dangling filetype");
}

static void rename_checks(void) {
    __wasi_filestat_t st;
    expect_ok(__wasi_path_rename(sandbox, "new.txt", sandbox, "renamed.txt"),
              "path_rename(new.txt, renamed.txt)");
    expect_errno(stat_at("new.txt", 0, &st), __WASI_ERRNO_NOENT, "new.txt is gone");
    expect_ok(stat_at("renamed.txt", 0, &st), "path_filestat_get(renamed.txt)");
    expect_u64(st.size, 4, "renamed.txt size");
    expect_ok(__wasi_path_rename(sandbox, "renamed.txt", sandbox, "renamed.txt"),
              "path_rename(renamed.txt onto itself)");
    // Onto an existing file: replaces it (hard-link was hello.txt's second name).
    expect_ok(__wasi_path_rename(sandbox, "renamed.txt", sandbox, "hard-link"),
              "path_rename(renamed.txt, hard-link) replacing a file");
    expect_ok(stat_at("hard-link", 0, &st), "path_filestat_get(hard-link)");
    expect_u64(st.size, 4, "hard-link now has renamed.txt's size");
    expect_ok(stat_at("hello.txt", 0, &st), "path_filestat_get(hello.txt)");
    expect_u64(st.nlink, 1, "hello.txt nlink after its second name was replaced");
    // Directories.
    expect_ok(__wasi_path_rename(sandbox, "made", sandbox, "made-renamed"),
              "path_rename(made, made-renamed)");
    expect_ok(stat_at("made-renamed/inner", 0, &st), "path_filestat_get(made-renamed/inner)");
    expect_errno(__wasi_path_rename(sandbox, "hard-link", sandbox, "sub"), __WASI_ERRNO_ISDIR,
                 "path_rename(file onto a directory)");
    expect_errno(__wasi_path_rename(sandbox, "made-renamed", sandbox, "hello.txt"),
                 __WASI_ERRNO_NOTDIR, "path_rename(directory onto a file)");
    expect_either(__wasi_path_rename(sandbox, "made-renamed", sandbox, "sub"),
                  __WASI_ERRNO_NOTEMPTY, __WASI_ERRNO_EXIST,
                  "path_rename(directory onto a non-empty directory)");
    expect_errno(__wasi_path_rename(sandbox, "made-renamed", sandbox, "made-renamed/inner/x"),
                 __WASI_ERRNO_INVAL, "path_rename(directory into itself)");
    expect_errno(__wasi_path_rename(sandbox, "missing", sandbox, "x"), __WASI_ERRNO_NOENT,
                 "path_rename(missing)");
    expect_errno(__wasi_path_rename(sandbox, "hard-link", sandbox, "no/such/x"),
                 __WASI_ERRNO_NOENT, "path_rename into a missing directory");
    // Across directory fds.
    __wasi_fd_t sub;
    require_ok(open_dir(sandbox, "sub", &sub), "path_open(sub, DIRECTORY)");
    expect_ok(__wasi_path_rename(sub, "nested.txt", sandbox, "moved.txt"),
              "path_rename(sub fd: nested.txt, sandbox fd: moved.txt)");
    expect_ok(__wasi_path_rename(sandbox, "moved.txt", sub, "nested.txt"),
              "path_rename back across directory fds");
    expect_ok(__wasi_fd_close(sub), "fd_close(sub)");
    expect_ok(__wasi_path_rename(sandbox, "made-renamed", sandbox, "made"),
              "path_rename(made-renamed, made)");
}

static void unlink_remove_checks(void) {
    __wasi_filestat_t st;
    expect_ok(__wasi_path_unlink_file(sandbox, "new-link"), "path_unlink_file(new-link)");
    expect_ok(stat_at("hello.txt", 0, &st), "hello.txt survives unlinking a link to it");
    expect_errno(__wasi_path_unlink_file(sandbox, "new-link"), __WASI_ERRNO_NOENT,
                 "path_unlink_file(new-link) again");
    expect_errno(__wasi_path_unlink_file(sandbox, "sub"), __WASI_ERRNO_ISDIR,
                 "path_unlink_file(sub), a directory");
    expect_errno(__wasi_path_unlink_file(sandbox, "hello.txt/"), __WASI_ERRNO_NOTDIR,
                 "path_unlink_file(hello.txt/)");
    expect_ok(__wasi_path_symlink("hello.txt", sandbox, "kept-link"),
              "path_symlink(hello.txt, kept-link)");

    expect_errno(__wasi_path_remove_directory(sandbox, "made"), __WASI_ERRNO_NOTEMPTY,
                 "path_remove_directory(made), not empty");
    expect_ok(__wasi_path_create_directory(sandbox, "empty"), "path_create_directory(empty)");
    expect_ok(__wasi_path_remove_directory(sandbox, "empty"), "path_remove_directory(empty)");
    expect_errno(stat_at("empty", 0, &st), __WASI_ERRNO_NOENT, "empty is gone");
    expect_errno(__wasi_path_remove_directory(sandbox, "empty"), __WASI_ERRNO_NOENT,
                 "path_remove_directory(empty) again");
    expect_errno(__wasi_path_remove_directory(sandbox, "hello.txt"), __WASI_ERRNO_NOTDIR,
                 "path_remove_directory(hello.txt), a file");
    expect_errno(__wasi_path_remove_directory(sandbox, "link-to-sub"), __WASI_ERRNO_NOTDIR,
                 "path_remove_directory(link-to-sub), a link to a directory");
}

// A trailing slash names a directory (POSIX pathname resolution): a directory is made,
// renamed and removed through "name/"; a file, or a symlink that is to be moved, named so is
// ENOTDIR; only a directory can be made at a new "name/".
static void trailing_slash_checks(void) {
    __wasi_fd_t fd;
    expect_ok(__wasi_path_create_directory(sandbox, "slashed/"), "path_create_directory(slashed/)");
    expect_ok(__wasi_path_rename(sandbox, "slashed/", sandbox, "renamed"),
              "path_rename(slashed/, renamed)");
    expect_ok(__wasi_path_rename(sandbox, "renamed", sandbox, "slashed/"),
              "path_rename(renamed, slashed/)");
    expect_ok(__wasi_path_rename(sandbox, "slashed//", sandbox, "renamed/"),
              "path_rename(slashed//, renamed/)");
    expect_ok(__wasi_path_create_directory(sandbox, "empty-target"),
              "path_create_directory(empty-target)");
    expect_ok(__wasi_path_rename(sandbox, "renamed/", sandbox, "empty-target/"),
              "path_rename(renamed/, empty-target/) replacing an empty directory");
    expect_errno(__wasi_path_rename(sandbox, "hello.txt/", sandbox, "x"), __WASI_ERRNO_NOTDIR,
                 "path_rename(hello.txt/, x)");
    expect_errno(__wasi_path_rename(sandbox, "hello.txt", sandbox, "x/"), __WASI_ERRNO_NOTDIR,
                 "path_rename(hello.txt, x/)");
    expect_errno(__wasi_path_rename(sandbox, "hello.txt", sandbox, "empty-target/"),
                 __WASI_ERRNO_NOTDIR, "path_rename(hello.txt, empty-target/)");
    expect_errno(__wasi_path_rename(sandbox, "link-to-sub/", sandbox, "x"), __WASI_ERRNO_NOTDIR,
                 "path_rename(link-to-sub/, x)");
    expect_errno(__wasi_path_rename(sandbox, "empty-target", sandbox, "link-to-sub/"),
                 __WASI_ERRNO_NOTDIR, "path_rename(empty-target, link-to-sub/)");
    expect_errno(__wasi_path_remove_directory(sandbox, "hello.txt/"), __WASI_ERRNO_NOTDIR,
                 "path_remove_directory(hello.txt/)");
    expect_errno(__wasi_path_remove_directory(sandbox, "missing/"), __WASI_ERRNO_NOENT,
                 "path_remove_directory(missing/)");
    expect_errno(open_file(sandbox, "new-file/", __WASI_OFLAGS_CREAT, &fd), __WASI_ERRNO_ISDIR,
                 "path_open(new-file/, CREAT)");
    expect_errno(__wasi_path_symlink("hello.txt", sandbox, "new-link/"), __WASI_ERRNO_NOENT,
                 "path_symlink(hello.txt, new-link/)");
    expect_errno(__wasi_path_link(sandbox, 0, "hello.txt", sandbox, "new-link/"),
                 __WASI_ERRNO_NOENT, "path_link(hello.txt, new-link/)");
    __wasi_errno_t err = __wasi_path_remove_directory(sandbox, "empty-target/");
    expect_ok(err, "path_remove_directory(empty-target/)");
    if (err != __WASI_ERRNO_SUCCESS) (void)__wasi_path_remove_directory(sandbox, "empty-target");
}

// Every path_* with an fd that is not open, and with a regular file's fd as the directory.
static void bad_base_checks(void) {
    const __wasi_fd_t unused = 4000;
    __wasi_filestat_t st;
    __wasi_fd_t fd, file;
    char buf[16];
    __wasi_size_t n;
    expect_errno(__wasi_path_create_directory(unused, "x"), __WASI_ERRNO_BADF,
                 "path_create_directory(unused fd, x)");
    expect_errno(__wasi_path_filestat_get(unused, 0, "x", &st), __WASI_ERRNO_BADF,
                 "path_filestat_get(unused fd, x)");
    expect_errno(__wasi_path_filestat_set_times(unused, 0, "x", 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
                 __WASI_ERRNO_BADF, "path_filestat_set_times(unused fd, x)");
    expect_errno(__wasi_path_link(unused, 0, "x", sandbox, "y"), __WASI_ERRNO_BADF,
                 "path_link(unused fd: x, sandbox: y)");
    expect_errno(__wasi_path_link(sandbox, 0, "hello.txt", unused, "y"), __WASI_ERRNO_BADF,
                 "path_link(sandbox: hello.txt, unused fd: y)");
    expect_errno(open_file(unused, "x", 0, &fd), __WASI_ERRNO_BADF, "path_open(unused fd, x)");
    expect_errno(__wasi_path_readlink(unused, "x", (uint8_t *)buf, sizeof buf, &n),
                 __WASI_ERRNO_BADF, "path_readlink(unused fd, x)");
    expect_errno(__wasi_path_remove_directory(unused, "x"), __WASI_ERRNO_BADF,
                 "path_remove_directory(unused fd, x)");
    expect_errno(__wasi_path_rename(unused, "x", sandbox, "y"), __WASI_ERRNO_BADF,
                 "path_rename(unused fd: x, sandbox: y)");
    expect_errno(__wasi_path_rename(sandbox, "hello.txt", unused, "y"), __WASI_ERRNO_BADF,
                 "path_rename(sandbox: hello.txt, unused fd: y)");
    expect_errno(__wasi_path_symlink("x", unused, "y"), __WASI_ERRNO_BADF,
                 "path_symlink(x, unused fd: y)");
    expect_errno(__wasi_path_unlink_file(unused, "x"), __WASI_ERRNO_BADF,
                 "path_unlink_file(unused fd, x)");

    require_ok(open_file(sandbox, "hello.txt", 0, &file), "path_open(hello.txt)");
    expect_errno(__wasi_path_filestat_get(file, 0, "x", &st), __WASI_ERRNO_NOTDIR,
                 "path_filestat_get(regular file fd, x)");
    expect_ok(__wasi_fd_close(file), "fd_close(hello.txt)");
}

int main(void) {
    checks_begin("fs_path: path_* inside the preopen");
    sandbox = find_preopen(SANDBOX);
    create_directory_checks();
    filestat_checks();
    set_times_checks();
    link_checks();
    open_checks();
    readlink_symlink_checks();
    rename_checks();
    unlink_remove_checks();
    trailing_slash_checks();
    bad_base_checks();
    return checks_summary();
}
