/* hx_open_input / hx_read_file: regular files are read whole (empty ones
 * too, NUL-terminated), everything else is refused at once with the kind
 * of file named: a FIFO (which would block a plain fopen), a symlink to a
 * FIFO, a directory, a character device, a socket; sizes above the limit
 * are refused, never cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "input_file.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hx-input-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	/* A refused FIFO must fail at once; if it ever blocked, the alarm
	 * kills the test instead of hanging the suite. */
	alarm(20);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	alarm(0);
	return 0;
}

static const char *at(struct fx *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Reading path must fail with a message containing want. */
static void expect_refused(const char *path, size_t max, const char *want)
{
	uint8_t *data = (uint8_t *)"untouched";
	size_t len = 99;
	char err[HX_INPUT_ERR_LEN] = "";
	assert_int_equal(hx_read_file(path, max, &data, &len, err, sizeof(err)), -1);
	assert_null(data);
	assert_int_equal(len, 0);
	if (!strstr(err, want))
		fail_msg("message \"%s\" lacks \"%s\"", err, want);
}

static void test_regular_file(void **state)
{
	struct fx *f = *state;
	write_bytes(at(f, "a"), "hello\0world", 11);
	uint8_t *data;
	size_t len;
	char err[HX_INPUT_ERR_LEN];
	assert_int_equal(hx_read_file(f->path, 100, &data, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello\0world", 11);
	assert_int_equal(data[11], 0); /* terminated for text parsers */
	free(data);
}

static void test_empty_file(void **state)
{
	struct fx *f = *state;
	write_bytes(at(f, "empty"), "", 0);
	uint8_t *data;
	size_t len = 5;
	char err[HX_INPUT_ERR_LEN];
	assert_int_equal(hx_read_file(f->path, 100, &data, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_non_null(data);
	assert_int_equal(data[0], 0);
	free(data);
}

static void test_size_limit(void **state)
{
	struct fx *f = *state;
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	write_bytes(at(f, "big"), buf, sizeof(buf));
	/* Exactly the limit is fine, one byte more is refused, not cut. */
	uint8_t *data;
	size_t len;
	char err[HX_INPUT_ERR_LEN];
	assert_int_equal(hx_read_file(f->path, 64, &data, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 64);
	free(data);
	expect_refused(f->path, 63, "file is larger than 63 bytes");
}

static void test_fifo(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkfifo(at(f, "fifo"), 0600), 0);
	expect_refused(f->path, 100, "is a FIFO, not a regular file");
	char err[HX_INPUT_ERR_LEN];
	assert_int_equal(hx_open_input(f->path, err, sizeof(err)), -1);
	assert_string_equal(err, "is a FIFO, not a regular file");
}

static void test_symlink_to_fifo(void **state)
{
	struct fx *f = *state;
	char fifo[128];
	snprintf(fifo, sizeof(fifo), "%s", at(f, "fifo2"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(fifo, at(f, "link")), 0);
	expect_refused(f->path, 100, "is a FIFO, not a regular file");
}

static void test_symlink_to_file_is_followed(void **state)
{
	struct fx *f = *state;
	char target[128];
	snprintf(target, sizeof(target), "%s", at(f, "target"));
	write_bytes(target, "abc", 3);
	assert_int_equal(symlink(target, at(f, "link2")), 0);
	uint8_t *data;
	size_t len;
	char err[HX_INPUT_ERR_LEN];
	assert_int_equal(hx_read_file(f->path, 100, &data, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 3);
	free(data);
}

static void test_directory(void **state)
{
	struct fx *f = *state;
	expect_refused(f->dir, 100, "is a directory, not a regular file");
}

static void test_char_device(void **state)
{
	(void)state;
	expect_refused("/dev/null", 100, "is a character device, not a regular file");
	expect_refused("/dev/zero", 100, "is a character device, not a regular file");
}

static void test_socket(void **state)
{
	struct fx *f = *state;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", at(f, "sock"));
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	expect_refused(f->path, 100, "is a socket, not a regular file");
	close(s);
}

static void test_missing_and_empty_name(void **state)
{
	struct fx *f = *state;
	expect_refused(at(f, "none"), 100, "cannot open: No such file or directory");
	expect_refused("", 100, "empty file name");
}

static void test_fd_is_blocking_and_cloexec(void **state)
{
	struct fx *f = *state;
	write_bytes(at(f, "b"), "x", 1);
	char err[HX_INPUT_ERR_LEN];
	int fd = hx_open_input(f->path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_regular_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_symlink_to_fifo, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_symlink_to_file_is_followed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_char_device, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_and_empty_name, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fd_is_blocking_and_cloexec, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
