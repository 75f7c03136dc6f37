/* Opening and reading input files safely; see input_file.h. */
#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* path is unused in the message (callers prefix it their way) but kept in
 * the signature so every failure site reads the same. */
static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	(void)path;
	if (!err || errlen == 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const char *hx_file_type_name(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "not a file";
	}
}

int hx_open_input(const char *path, char *err, size_t errlen)
{
	if (!path || !*path)
		return fail(err, errlen, "", "empty file name");
	/* O_NONBLOCK: a FIFO opens at once instead of waiting for a writer;
	 * O_NOCTTY: a terminal never becomes the controlling one. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		struct stat st;
		/* A socket cannot be open()ed (ENXIO); name it for the message
		 * only, the decision is already made. */
		if (e == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return fail(err, errlen, path, "is %s, not a regular file",
			            hx_file_type_name(st.st_mode));
		return fail(err, errlen, path, "cannot open: %s", strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, path, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, path, "is %s, not a regular file",
		            hx_file_type_name(st.st_mode));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, path, "cannot clear O_NONBLOCK: %s", strerror(e));
	}
	return fd;
}

int hx_read_file(const char *path, size_t max, uint8_t **data, size_t *len, char *err,
                 size_t errlen)
{
	*data = NULL;
	*len = 0;
	int fd = hx_open_input(path, err, errlen);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < 0) {
		close(fd);
		return fail(err, errlen, path, "cannot stat");
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return fail(err, errlen, path, "file is larger than %zu bytes (%lld bytes)", max,
		            (long long)st.st_size);
	}
	/* The size is a hint: the file may grow or shrink while it is read, so
	 * read until end of file and refuse anything beyond max. */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	uint8_t *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return fail(err, errlen, path, "out of memory for %zu bytes", cap);
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				close(fd);
				return fail(err, errlen, path, "file is larger than %zu bytes",
				            max);
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			uint8_t *nb = realloc(buf, ncap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return fail(err, errlen, path, "out of memory for %zu bytes", ncap);
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return fail(err, errlen, path, "cannot read: %s", strerror(e));
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return fail(err, errlen, path, "file is larger than %zu bytes", max);
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}
