/* Opening and reading input files (configs, traces, guest ELFs, images,
 * fuzz inputs) without ever blocking or reading something that is not a
 * file.
 *
 * A FIFO named as an input would block fopen() until a writer appears, a
 * character device (/dev/zero, a tty) never ends, a directory reads as an
 * error on some systems and as garbage on others. So inputs are opened
 * O_NONBLOCK (a FIFO then opens at once), the opened descriptor is
 * fstat()ed (never stat-then-open: the name could change in between) and
 * only regular files are accepted. Symlinks are followed: what counts is
 * the file they lead to, so a symlink to a FIFO is refused like the FIFO.
 *
 * Standard input: no command reads "-" as standard input (the hx commands
 * refuse it as an unknown option), and /dev/stdin is accepted only when it
 * is a regular file (`hx config check /dev/stdin < cfg.json`), not a pipe
 * or a terminal: a pipe could block and could not be re-read.
 *
 * err receives the reason only ("is a FIFO, not a regular file"); callers
 * prefix the file name (escaped, see escape.h) the way their messages
 * read. */
#ifndef HX_INPUT_FILE_H
#define HX_INPUT_FILE_H

#include <stddef.h>
#include <stdint.h>

#define HX_INPUT_ERR_LEN 512

/* Open path for reading, as described above. Returns a blocking file
 * descriptor of a regular file (close it), or -1 with err filled, e.g.
 * "is a FIFO, not a regular file". err may be NULL. */
int hx_open_input(const char *path, char *err, size_t errlen);

/* Read a whole regular file of at most max bytes. On success *data is a
 * malloc()ed buffer with a NUL after the last byte (not counted in *len)
 * and 0 is returned; otherwise -1 with err filled, e.g. "file is larger
 * than 268435456 bytes". An empty file gives *len 0. */
int hx_read_file(const char *path, size_t max, uint8_t **data, size_t *len, char *err,
                 size_t errlen);

/* "a regular file", "a directory", "a FIFO", "a character device", ... for
 * an st_mode. */
const char *hx_file_type_name(unsigned mode);

#endif
