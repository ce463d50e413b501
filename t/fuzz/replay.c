/*
 * replay.c - run a fuzz target without a fuzzer, as a TAP test.
 *
 * Replays every file of t/fuzz/corpus/NAME (NAME from the program name,
 * fuzz_NAME), then deterministic mutations of each (bit flips,
 * truncations, byte insertions): REPLAY_BUDGET in all, shared by the files
 * (at least REPLAY_MIN, at most REPLAY_MUTATIONS each), so `make check`
 * takes about as long whatever the size of a corpus that make fuzz grew;
 * a slow target lowers the budget by defining fuzz_replay_budget.
 * Fuzz findings committed to the corpus become regression tests and `make
 * check` still explores a little. A crash or sanitizer report fails the
 * test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional, in the target: its own REPLAY_BUDGET */
extern const int fuzz_replay_budget __attribute__((weak));

#define REPLAY_MAX	65536
#define REPLAY_MUTATIONS	500
#define REPLAY_MIN	20
#define REPLAY_BUDGET	10000

static int replay_mutations = REPLAY_MUTATIONS;

static uint32_t replay_seed = 12345;

/* replay_rand - a small deterministic PRNG (xorshift32) */
static uint32_t
replay_rand(void)
{
	replay_seed ^= replay_seed << 13;
	replay_seed ^= replay_seed >> 17;
	replay_seed ^= replay_seed << 5;
	return replay_seed;
}

/* replay_mutate - run the target on mutations of one input */
static void
replay_mutate(const uint8_t *data, size_t size)
{
	static uint8_t buf[REPLAY_MAX + 1];
	size_t len, pos;
	int i;

	for (i = 0; i < replay_mutations; i++) {
		len = size;
		memcpy(buf, data, size);
		pos = size > 0 ? replay_rand() % size : 0;
		switch (replay_rand() % 4) {
		case 0:
			if (size > 0)
				buf[pos] ^= (uint8_t)(1u << (replay_rand() % 8));
			break;
		case 1:
			len = pos;
			break;
		case 2:
			if (size < REPLAY_MAX) {
				memmove(buf + pos + 1, buf + pos, size - pos);
				buf[pos] = (uint8_t)replay_rand();
				len = size + 1;
			}
			break;
		default:
			if (size > 0)
				buf[pos] = "\0\r\n\"\\+:@<>[]#\xff\xc3"[replay_rand() % 15];
			break;
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
}

/* replay_file - read one corpus file and run it and its mutations */
static int
replay_file(const char *path)
{
	static uint8_t data[REPLAY_MAX];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return -1;
	n = fread(data, 1, sizeof(data), fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(data, n);
	replay_mutate(data, n);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *srcdir = getenv("top_srcdir"), *name = strrchr(argv[0], '/');
	char dir[1024], path[2048];
	struct dirent *de;
	DIR *d;
	int n = 0, failed = 0, budget;

	(void)argc;
	name = name != NULL ? name + 1 : argv[0];
	if (strncmp(name, "fuzz_", 5) == 0)
		name += 5;
	snprintf(dir, sizeof(dir), "%s/t/fuzz/corpus/%s",
	    srcdir != NULL ? srcdir : "..", name);
	d = opendir(dir);
	if (d == NULL) {
		printf("1..0 # SKIP no corpus at %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	budget = &fuzz_replay_budget != NULL ? fuzz_replay_budget :
	    REPLAY_BUDGET;
	if (n > 0 && budget / n < replay_mutations)
		replay_mutations = budget / n;
	if (replay_mutations < REPLAY_MIN)
		replay_mutations = REPLAY_MIN;
	rewinddir(d);
	n = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n++;
		if (replay_file(path) != 0) {
			printf("not ok %d - replay %s (unreadable)\n", n, de->d_name);
			failed++;
		} else {
			printf("ok %d - replay %s and %d mutations\n", n,
			    de->d_name, replay_mutations);
		}
	}
	closedir(d);
	printf("1..%d\n", n);
	return failed == 0 && n > 0 ? 0 : 1;
}
