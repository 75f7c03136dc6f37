/* hx boot: the config blob and the guests into a private directory, QEMU
 * started on them, the event stream read until DONE, FATAL, QEMU's end or
 * the timeout. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot_runner.h"
#include "escape.h"
#include "hv/boot.h"
#include "input_file.h"

#define MAX_GUEST_BYTES (64u << 20)

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Atomically: a temporary file beside path, renamed over it when whole. */
static int write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen,
                      struct hxk_err *err)
{
	char tmp[400];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return hxk_fail(err, "cannot create %s: %s", hx_esc(tmp), strerror(errno));
	int r = write_all(fd, a, alen) == 0 && (blen == 0 || write_all(fd, b, blen) == 0) ? 0 : -1;
	if (close(fd) != 0)
		r = -1;
	if (r == 0 && rename(tmp, path) != 0)
		r = -1;
	if (r != 0) {
		int e = errno;
		unlink(tmp);
		return hxk_fail(err, "cannot write %s: %s", hx_esc(path), strerror(e));
	}
	return 0;
}

struct workdir {
	char dir[256];
	char files[HV_MAX_PARTITIONS + 2][300];
	uint32_t nfiles;
};

static void workdir_remove(struct workdir *w)
{
	for (uint32_t i = 0; i < w->nfiles; i++)
		unlink(w->files[i]);
	if (w->dir[0])
		rmdir(w->dir);
}

static const char *workdir_file(struct workdir *w, const char *name)
{
	char *f = w->files[w->nfiles++];
	const char *dir = w->dir;
	size_t n = strlen(dir);
	if (n + 1 + strlen(name) >= sizeof(w->files[0]))
		n = 0; /* cannot happen: dir is at most 255 bytes, names are short */
	memcpy(f, dir, n);
	f[n] = '/';
	strcpy(f + n + 1, name);
	return f;
}

/* The blob the image reads first (hv/boot.h). */
static int write_blob(const struct hv_system_config *cfg, const struct hxb_options *opt,
                      const char *path, struct hxk_err *err)
{
	struct hv_boot_blob h;
	memset(&h, 0, sizeof(h));
	h.magic = HV_BOOT_BLOB_MAGIC;
	h.version = HV_BOOT_BLOB_VERSION;
	h.header_size = sizeof(h);
	h.config_size = sizeof(*cfg);
	h.checksum = hv_boot_fnv1a(cfg, sizeof(*cfg));
	h.max_vcpus = opt->run.max_vcpus;
	h.max_exits = opt->run.max_exits;
	h.flags = opt->run.record ? HV_BOOT_OPT_RECORD : 0;
	return write_file(path, &h, sizeof(h), cfg, sizeof(*cfg), err);
}

/* Copies, so that the module list QEMU parses (commas and spaces are its
 * separators) holds only names hx chose, and a FIFO or a directory given
 * as a guest is refused here with a precise message. */
static int copy_guest(const char *src, const char *dst, uint32_t part, struct hxk_err *err)
{
	uint8_t *data;
	size_t len;
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(src, MAX_GUEST_BYTES, &data, &len, why, sizeof(why)) != 0)
		return hxk_fail(err, "guest image of partition %u: %s: %s", part, hx_esc(src), why);
	int r = write_file(dst, data, len, NULL, 0, err);
	free(data);
	return r;
}

static bool tool_exists(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		return false;
	char buf[4096];
	for (const char *p = path; *p;) {
		const char *c = strchr(p, ':');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (n && access(buf, X_OK) == 0)
			return true;
		p += n + (c ? 1 : 0);
	}
	return false;
}

static pid_t spawn_qemu(char *const argv[], const char *errlog, int *out_fd, struct hxk_err *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		hxk_fail(err, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		hxk_fail(err, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		int e = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (e >= 0)
			dup2(e, STDERR_FILENO);
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "hx boot: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	*out_fd = pipefd[0];
	return pid;
}

enum hxb_status hxb_run(const struct hv_system_config *cfg, const char *const *images,
                        const struct hxb_options *opt, struct hxk_report *rep, struct hxk_err *err)
{
	memset(rep, 0, sizeof(*rep));
	rep->npartitions = cfg->npartitions;
	rep->oracles = false;
	rep->checks_note =
	        "checked inside the booted image: hv_ept_verify of every nested table at "
	        "boot and after every change, and the guests' canary scans";
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		struct hxk_part_report *pr = &rep->parts[p];
		snprintf(pr->name, sizeof(pr->name), "%s", cfg->partitions[p].name);
		pr->outcome = HXK_OUT_RUNNING;
		pr->nvcpus = cfg->partitions[p].nvcpus;
		if (opt->run.max_vcpus && pr->nvcpus > opt->run.max_vcpus)
			pr->nvcpus = opt->run.max_vcpus;
	}
	if (cfg->vendor != HV_VENDOR_AMD) {
		hxk_fail(err,
		         "the bootable image runs AMD SVM only: the config must say \"vendor\": "
		         "\"amd\"");
		return HXB_BAD_INPUT;
	}
	if (cfg->host_mem_size > (4ull << 30)) {
		hxk_fail(err,
		         "host memory of %llu MiB: the bootable image maps the first 4 GiB only",
		         (unsigned long long)(cfg->host_mem_size >> 20));
		return HXB_BAD_INPUT;
	}
	char why[HX_INPUT_ERR_LEN];
	int ifd = hx_open_input(opt->image, why, sizeof(why));
	if (ifd < 0) {
		hxk_fail(err, "boot image %s: %s", hx_esc(opt->image), why);
		return HXB_BAD_INPUT;
	}
	close(ifd);
	if (!tool_exists(opt->qemu)) {
		hxk_fail(err,
		         "%s not found (Debian package qemu-system-x86; ci/deps.sh installs it)",
		         hx_esc(opt->qemu));
		return HXB_ERROR;
	}

	struct workdir w;
	memset(&w, 0, sizeof(w));
	const char *tmp = getenv("TMPDIR");
	if (opt->modules_dir) {
		struct stat st;
		if (strlen(opt->modules_dir) >= sizeof(w.dir) - 32) {
			hxk_fail(err, "--write-modules %s: path too long",
			         hx_esc(opt->modules_dir));
			return HXB_BAD_INPUT;
		}
		if (mkdir(opt->modules_dir, 0755) != 0 &&
		    (errno != EEXIST || stat(opt->modules_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
			hxk_fail(err, "--write-modules %s: not a directory that can be created",
			         hx_esc(opt->modules_dir));
			return HXB_BAD_INPUT;
		}
		snprintf(w.dir, sizeof(w.dir), "%s", opt->modules_dir);
	} else if (snprintf(w.dir, sizeof(w.dir), "%s/hx-boot.XXXXXX", tmp && *tmp ? tmp : "/tmp"),
	           !mkdtemp(w.dir)) {
		hxk_fail(err, "cannot create a directory under %s: %s", hx_esc(tmp ? tmp : "/tmp"),
		         strerror(errno));
		w.dir[0] = 0;
		return HXB_ERROR;
	}
	enum hxb_status status = HXB_BAD_INPUT;
	struct hxb_events *ev = NULL;
	pid_t pid = -1;
	int fd = -1;
	char initrd[8192];
	size_t used = 0;
	const char *blob = workdir_file(&w, "config.blob");
	if (write_blob(cfg, opt, blob, err) != 0)
		goto out;
	used += (size_t)snprintf(initrd + used, sizeof(initrd) - used, "%s", blob);
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		char name[32];
		snprintf(name, sizeof(name), "guest%u.elf", p);
		const char *g = workdir_file(&w, name);
		if (copy_guest(images[p], g, p, err) != 0)
			goto out;
		used += (size_t)snprintf(initrd + used, sizeof(initrd) - used, ",%s", g);
	}
	if (used >= sizeof(initrd) || strpbrk(w.dir, ", ")) {
		hxk_fail(err,
		         "temporary directory %s: its name must not hold commas or spaces "
		         "(set TMPDIR)",
		         hx_esc(w.dir));
		goto out;
	}
	const char *serial = opt->serial_log ? opt->serial_log : workdir_file(&w, "serial.log");
	char serial_arg[400], mem[32];
	snprintf(serial_arg, sizeof(serial_arg), "file:%s", serial);
	uint64_t mib = (cfg->host_mem_size + (1u << 20) - 1) >> 20;
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(mib < 32 ? 32 : mib));
	char *argv[] = {(char *)opt->qemu,
	                "-accel",
	                "tcg",
	                "-cpu",
	                "EPYC",
	                "-smp",
	                "1",
	                "-m",
	                mem,
	                "-nodefaults",
	                "-display",
	                "none",
	                "-monitor",
	                "none",
	                "-no-reboot",
	                "-kernel",
	                (char *)opt->image,
	                "-initrd",
	                initrd,
	                "-serial",
	                serial_arg,
	                "-chardev",
	                "stdio,id=hxev,signal=off",
	                "-device",
	                "isa-debugcon,iobase=0x6e9,chardev=hxev",
	                "-device",
	                "isa-debug-exit,iobase=0xf4,iosize=4",
	                NULL};
	_Static_assert(HV_BOOT_EVENT_PORT == 0x6e9 && HV_BOOT_EXIT_PORT == 0xf4, "QEMU devices");
	if (opt->run.verbose) {
		fprintf(stderr, "hx boot:");
		for (char **a = argv; *a; a++)
			fprintf(stderr, " %s", hx_esc(*a));
		fprintf(stderr, "\n");
	}
	if (opt->modules_dir) {
		/* For a run by hand: the serial console on the terminal, the
		 * events into a file (hv/boot.h documents their frames). */
		printf("modules written to %s; to boot them by hand:\n ", hx_esc(w.dir));
		for (char **a = argv; *a; a++) {
			if (!strcmp(*a, serial_arg))
				printf(" stdio");
			else if (!strcmp(*a, "stdio,id=hxev,signal=off"))
				printf(" file,id=hxev,path=%s/events.bin", hx_esc(w.dir));
			else
				printf(" %s", hx_esc(*a));
		}
		printf("\n");
		w.nfiles = 0; /* they stay */
		w.dir[0] = 0;
		status = HXB_DONE;
		goto out;
	}
	ev = hxb_events_new(cfg, opt, rep);
	if (!ev) {
		hxk_fail(err, "out of memory");
		status = HXB_ERROR;
		goto out;
	}
	double t0 = now_s();
	const char *qerr = workdir_file(&w, "qemu.log");
	pid = spawn_qemu(argv, qerr, &fd, err);
	if (pid < 0) {
		status = HXB_ERROR;
		goto out;
	}
	bool timed_out = false, broken = false;
	struct hxk_err stream_err = {0};
	for (;;) {
		double left = opt->run.timeout_s - (now_s() - t0);
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = {fd, POLLIN, 0};
		int r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		uint8_t buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* QEMU closed its output: it ended */
		if (hxb_events_feed(ev, buf, (size_t)n, now_s() - t0, &stream_err) != 0) {
			broken = true;
			break;
		}
	}
	double t_end = now_s() - t0;
	if (timed_out || broken)
		kill(-pid, SIGKILL);
	int wst = 0;
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	rep->seconds = t_end;
	if (hxb_events_fatal(ev)) {
		hxk_fail(err, "the hypervisor refused to run: %s", hxb_events_fatal(ev));
		status = HXB_BAD_INPUT;
		goto out;
	}
	if (broken) {
		hxk_fail(err, "%s", stream_err.msg);
		status = HXB_ERROR;
		goto out;
	}
	if (!timed_out && !hxb_events_done(ev)) {
		/* QEMU ended on its own before the image said DONE. */
		int code = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
		if (code != 1 || !rep->total_exits) {
			char qmsg[512] = "";
			FILE *qf = fopen(qerr, "r");
			if (qf) {
				char line[512];
				while (fgets(line, sizeof(line), qf))
					if (!strstr(line, "warning: TCG doesn't support"))
						snprintf(qmsg, sizeof(qmsg), "%s", line);
				fclose(qf);
			}
			qmsg[strcspn(qmsg, "\n")] = 0;
			hxk_fail(err, "QEMU ended (status %d) before the hypervisor finished%s%s",
			         code, qmsg[0] ? ": " : "", hx_esc(qmsg));
			status = HXB_ERROR;
			goto out;
		}
	}
	hxb_events_finish(ev, timed_out, t_end);
	if (hxb_events_commit_trace(ev, err) != 0) {
		status = HXB_ERROR;
		goto out;
	}
	hxk_report_finish(rep, cfg->npartitions, &opt->run);
	status = HXB_DONE;
out:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (fd >= 0)
		close(fd);
	hxb_events_free(ev);
	workdir_remove(&w);
	return status;
}
