/* test_fsutil.c - durable moves: the file arrives whole under its name, a clash never overwrites
 * (name.1.csv, name.2.csv, README.1, .hidden.1), symlinks move as links, a move to another
 * filesystem leaves no temporary behind and keeps the source's mode and owner, the crash point
 * sits after the rename; names with '/' or ".." are refused; private files are never opened
 * through a symlink, a hard link, a FIFO or a file of another user; mkdir -p; the descriptor
 * limit is raised to the hard limit. */
#include "fsutil.h"
#include "log.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256];

static void path_of(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", root, rel);
}

static void write_file(const char *rel, const char *text)
{
    char p[512];
    path_of(p, sizeof(p), rel);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* The content of root/rel, or "<missing>". Static buffer. */
static const char *read_file(const char *rel)
{
    static char text[256];
    char p[512];
    path_of(p, sizeof(p), rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return "<missing>";
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static bool exists(const char *rel)
{
    char p[512];
    struct stat st;
    path_of(p, sizeof(p), rel);
    return lstat(p, &st) == 0;
}

/* Entries in a folder, "." and ".." aside, including hidden ones. */
static long count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    long n = 0;
    if (!d)
        return -1;
    for (struct dirent *de; (de = readdir(d));)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int move(const char *name, char *final_name)
{
    char src[512], dst[512];
    path_of(src, sizeof(src), "in");
    path_of(dst, sizeof(dst), "arc");
    return fs_move_durable(src, name, dst, final_name, 256);
}

static void test_mkdir_p(void)
{
    char p[512], q[512];
    struct stat st;
    path_of(p, sizeof(p), "m/a/b/c");
    CHECK_EQ_LONG(fs_mkdir_p(p), 0);
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ_LONG(fs_mkdir_p(p), 0); /* already there */
    path_of(q, sizeof(q), "m/a//x/");
    CHECK_EQ_LONG(fs_mkdir_p(q), 0);
    path_of(q, sizeof(q), "m/a/x");
    CHECK(stat(q, &st) == 0 && S_ISDIR(st.st_mode));
    write_file("m/file", "x");
    path_of(q, sizeof(q), "m/file");
    CHECK_EQ_LONG(fs_mkdir_p(q), -1); /* a file is in the way */
    path_of(q, sizeof(q), "m/file/sub");
    CHECK_EQ_LONG(fs_mkdir_p(q), -1);
    CHECK_EQ_LONG(fs_mkdir_p(""), -1);
}

static void test_fsync_dir(void)
{
    char p[512];
    CHECK_EQ_LONG(fs_fsync_dir(root), 0);
    path_of(p, sizeof(p), "no-such-folder");
    CHECK_EQ_LONG(fs_fsync_dir(p), -1);
}

static void test_move_and_clashes(void)
{
    char p[512], final_name[256];
    path_of(p, sizeof(p), "in");
    CHECK_EQ_LONG(fs_mkdir_p(p), 0);

    write_file("in/day.csv", "one\n");
    CHECK_EQ_LONG(move("day.csv", final_name), 0); /* creates the archive folder */
    CHECK_EQ_STR(final_name, "day.csv");
    CHECK(!exists("in/day.csv"));
    CHECK_EQ_STR(read_file("arc/day.csv"), "one\n");

    write_file("in/day.csv", "two\n");
    CHECK_EQ_LONG(move("day.csv", final_name), 0);
    CHECK_EQ_STR(final_name, "day.1.csv");
    write_file("in/day.csv", "three\n");
    CHECK_EQ_LONG(move("day.csv", final_name), 0);
    CHECK_EQ_STR(final_name, "day.2.csv");
    CHECK_EQ_STR(read_file("arc/day.csv"), "one\n"); /* never overwritten */
    CHECK_EQ_STR(read_file("arc/day.1.csv"), "two\n");
    CHECK_EQ_STR(read_file("arc/day.2.csv"), "three\n");
    CHECK(!exists("in/day.csv"));

    /* The suffix goes before the last extension; a name without one gets it at the end. */
    write_file("in/a.b.csv", "x");
    write_file("arc/a.b.csv", "old");
    CHECK_EQ_LONG(move("a.b.csv", final_name), 0);
    CHECK_EQ_STR(final_name, "a.b.1.csv");
    write_file("in/README", "x");
    write_file("arc/README", "old");
    CHECK_EQ_LONG(move("README", final_name), 0);
    CHECK_EQ_STR(final_name, "README.1");
    write_file("in/.hidden", "x");
    write_file("arc/.hidden", "old");
    CHECK_EQ_LONG(move(".hidden", final_name), 0);
    CHECK_EQ_STR(final_name, ".hidden.1");

    /* No final_name wanted. */
    write_file("in/quiet.csv", "q");
    char src[512], dst[512];
    path_of(src, sizeof(src), "in");
    path_of(dst, sizeof(dst), "arc");
    CHECK_EQ_LONG(fs_move_durable(src, "quiet.csv", dst, NULL, 0), 0);
    CHECK_EQ_STR(read_file("arc/quiet.csv"), "q");

    /* A missing file is an error and creates nothing. */
    CHECK_EQ_LONG(move("ghost.csv", final_name), -1);
    CHECK(!exists("arc/ghost.csv"));
    CHECK_EQ_LONG(count_entries(src), 0);
}

static void test_symlink_moves_as_link(void)
{
    char p[512], target[512], link_path[512], final_name[256];
    struct stat st;
    write_file("secret", "do not read");
    path_of(target, sizeof(target), "secret");
    path_of(link_path, sizeof(link_path), "in/link.csv");
    CHECK_EQ_LONG(symlink(target, link_path), 0);
    CHECK_EQ_LONG(move("link.csv", final_name), 0);
    CHECK_EQ_STR(final_name, "link.csv");
    path_of(p, sizeof(p), "arc/link.csv");
    CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK_EQ_STR(read_file("secret"), "do not read");
}

/* Another filesystem (tmpfs in /dev/shm when /tmp is not one): copy, fsync, rename, unlink. */
static void test_cross_filesystem(void)
{
    char shm[] = "/dev/shm/sluice-fsutil.XXXXXX", final_name[256], dst[512];
    struct stat a, b;
    if (!mkdtemp(shm)) {
        printf("cross-filesystem move: skipped (no /dev/shm)\n");
        return;
    }
    path_of(dst, sizeof(dst), "xarc");
    CHECK_EQ_LONG(fs_mkdir_p(dst), 0);
    if (stat(shm, &a) < 0 || stat(dst, &b) < 0 || a.st_dev == b.st_dev) {
        printf("cross-filesystem move: skipped (same filesystem)\n");
        rmdir(shm);
        return;
    }
    char src_file[600];
    snprintf(src_file, sizeof(src_file), "%s/big.csv", shm);
    FILE *f = fopen(src_file, "w");
    for (int i = 0; i < 100000; i++) /* 1.6 MB: more than one copy buffer */
        fprintf(f, "%07d,abcdefgh\n", i);
    fclose(f);
    write_file("xarc/big.csv", "old");
    CHECK_EQ_LONG(fs_move_durable(shm, "big.csv", dst, final_name, sizeof(final_name)), 0);
    CHECK_EQ_STR(final_name, "big.1.csv");
    CHECK(access(src_file, F_OK) != 0);
    CHECK_EQ_STR(read_file("xarc/big.csv"), "old");
    char moved[600];
    snprintf(moved, sizeof(moved), "%s/big.1.csv", dst);
    CHECK(stat(moved, &a) == 0 && a.st_size == 100000 * 17);
    f = fopen(moved, "r");
    char line[32] = "";
    if (f) {
        fseek(f, 99999L * 17, SEEK_SET);
        CHECK(fgets(line, sizeof(line), f) != NULL);
        fclose(f);
    }
    CHECK_EQ_STR(line, "0099999,abcdefgh\n");
    CHECK_EQ_LONG(count_entries(dst), 2); /* no hidden temporary left behind */
    CHECK_EQ_LONG(count_entries(shm), 0);

    /* The copy keeps the source's permission bits (set-id dropped) and, as root, its owner. */
    snprintf(src_file, sizeof(src_file), "%s/private.csv", shm);
    f = fopen(src_file, "w");
    fputs("secret\n", f);
    fclose(f);
    CHECK(chmod(src_file, 02640) == 0);
    bool root_user = geteuid() == 0;
    if (root_user)
        CHECK(chown(src_file, 65534, 65534) == 0);
    CHECK_EQ_LONG(fs_move_durable(shm, "private.csv", dst, final_name, sizeof(final_name)), 0);
    snprintf(moved, sizeof(moved), "%s/private.csv", dst);
    CHECK(stat(moved, &a) == 0);
    CHECK_EQ_LONG(a.st_mode & 07777, 0640);
    CHECK_EQ_LONG(a.st_uid, root_user ? 65534 : geteuid());
    CHECK_EQ_LONG(a.st_gid, root_user ? 65534 : getegid());
    rmdir(shm);
}

/* Names are entries of the folder, never paths: '/', "." and ".." are refused before anything. */
static void test_plain_names_only(void)
{
    char src[512], dst[512], final_name[256];
    path_of(src, sizeof(src), "pin");
    path_of(dst, sizeof(dst), "parc");
    CHECK_EQ_LONG(fs_mkdir_p(src), 0);
    write_file("outside.csv", "stay");
    CHECK_EQ_LONG(fs_move_durable(src, "../outside.csv", dst, final_name, sizeof(final_name)), -1);
    CHECK_EQ_STR(read_file("outside.csv"), "stay");
    CHECK_EQ_LONG(fs_move_durable(src, "..", dst, final_name, sizeof(final_name)), -1);
    CHECK_EQ_LONG(fs_move_durable(src, ".", dst, final_name, sizeof(final_name)), -1);
    CHECK_EQ_LONG(fs_move_durable(src, "", dst, final_name, sizeof(final_name)), -1);
    CHECK_EQ_LONG(count_entries(dst), 0);
}

/* The lock and metrics files: created 0600, never through a symlink, never a planted file. */
static void test_open_private(void)
{
    char dir[512], p[512], target[512];
    path_of(dir, sizeof(dir), "ck");
    CHECK_EQ_LONG(fs_mkdir_p(dir), 0);
    mode_t old = umask(0);
    int fd = fs_open_private_in(dir, "ingest.lock", O_RDWR | O_CREAT);
    umask(old);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    if (fd >= 0)
        close(fd);
    fd = fs_open_private_in(dir, "ingest.lock", O_RDWR | O_CREAT); /* ours: opens again */
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);

    write_file("victim", "keep");
    path_of(target, sizeof(target), "victim");
    path_of(p, sizeof(p), "ck/metrics.prom");
    CHECK(symlink(target, p) == 0);
    errno = 0;
    CHECK_EQ_LONG(fs_open_private_in(dir, "metrics.prom", O_WRONLY | O_CREAT | O_TRUNC), -1);
    CHECK_EQ_LONG(errno, ELOOP);
    unlink(p);
    CHECK(link(target, p) == 0);
    errno = 0;
    CHECK_EQ_LONG(fs_open_private_in(dir, "metrics.prom", O_WRONLY | O_CREAT), -1);
    CHECK_EQ_LONG(errno, EPERM);
    unlink(p);
    CHECK(mkfifo(p, 0600) == 0); /* a FIFO would block an open for writing: refused at once */
    errno = 0;
    CHECK_EQ_LONG(fs_open_private_in(dir, "metrics.prom", O_WRONLY | O_CREAT), -1);
    CHECK(errno == ENXIO || errno == EINVAL);
    unlink(p);
    CHECK_EQ_STR(read_file("victim"), "keep");
    if (geteuid() == 0) {
        write_file("ck/planted", "x");
        char planted[512];
        path_of(planted, sizeof(planted), "ck/planted");
        CHECK(chown(planted, 65534, 65534) == 0);
        errno = 0;
        CHECK_EQ_LONG(fs_open_private_in(dir, "planted", O_WRONLY), -1);
        CHECK_EQ_LONG(errno, EPERM);
    }
}

static void test_nofile_limit(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t hard = rl.rlim_max;
    rl.rlim_cur = hard > 256 ? 256 : hard;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t soft = 0;
    CHECK_EQ_LONG(fs_raise_nofile_limit(&soft), 0);
    CHECK(soft == hard);
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == hard);
}

/* SLUICE_FAULT=archive-before-dir-fsync:2: the second move's rename is done when it dies. */
static void test_fault_point_after_rename(void)
{
    char src[512], dst[512];
    path_of(src, sizeof(src), "fin");
    path_of(dst, sizeof(dst), "farc");
    CHECK_EQ_LONG(fs_mkdir_p(src), 0);
    write_file("fin/a.csv", "a");
    write_file("fin/b.csv", "b");
    write_file("fin/c.csv", "c");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        setenv("SLUICE_FAULT", "archive-before-dir-fsync:2", 1);
        fs_move_durable(src, "a.csv", dst, NULL, 0);
        fs_move_durable(src, "b.csv", dst, NULL, 0);
        fs_move_durable(src, "c.csv", dst, NULL, 0);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_LONG(WEXITSTATUS(status), 77);
    CHECK_EQ_STR(read_file("farc/a.csv"), "a");
    CHECK_EQ_STR(read_file("farc/b.csv"), "b");
    CHECK(!exists("fin/b.csv"));
    CHECK_EQ_STR(read_file("fin/c.csv"), "c");
    CHECK(!exists("farc/c.csv"));
}

int main(void)
{
    log_min_level = LOG_LEVEL_ERROR + 1; /* the expected failures need not be printed */
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/sluice-fsutil.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    /* First: the fault points read SLUICE_FAULT once per process, and a forked child inherits
     * that, so the child must be the first to pass one. */
    test_fault_point_after_rename();
    test_mkdir_p();
    test_fsync_dir();
    test_move_and_clashes();
    test_symlink_moves_as_link();
    test_cross_filesystem();
    test_plain_names_only();
    test_open_private();
    test_nofile_limit();
    char cmd[320];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return TEST_DONE();
}
