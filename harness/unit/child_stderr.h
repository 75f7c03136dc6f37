/* Runs body(arg) in a forked child with its stderr sent back through a
 * pipe, for the tests that must see a sanitizer stop the process: out gets
 * what the child wrote (NUL-terminated, cut at len - 1 bytes), *status its
 * wait status. The child exits 0 when body returns. Header-only: each test
 * includes it once. */
#ifndef CHILD_STDERR_H
#define CHILD_STDERR_H

#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_in_child(void (*body)(void *), void *arg, char *out, size_t len, int *status)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		body(arg);
		_exit(0);
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t n;
	while (got < len - 1 && (n = read(fds[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(fds[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
}

#endif
