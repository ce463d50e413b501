/*
 * test_recordlog.c - one write per record, reopen under load loses nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "errors.h"
#include "record/recordlog.h"
#include "tap.h"

#define WRITERS		4
#define PER_WRITER	2000
#define ROTATIONS	25

static char dir[] = "/tmp/test_recordlog.XXXXXX";
static char path[256];
static struct recordlog *rl;
static int write_errors;

/* writer - PER_WRITER records, each with a unique (writer, seq) */
static void *
writer(void *arg)
{
	long id = (long)arg;
	json_t *rec;
	int i;

	for (i = 0; i < PER_WRITER; i++) {
		rec = json_pack("{s:i, s:i, s:s}", "w", (int)id, "seq", i,
		    "pad", "0123456789012345678901234567890123456789");
		if (recordlog_write_json(rl, rec) != 0)
			__atomic_add_fetch(&write_errors, 1, __ATOMIC_RELAXED);
		json_decref(rec);
	}
	return NULL;
}

/* count_file - lines, valid records, and the seen matrix */
static void
count_file(const char *file, int *lines, int *bad, unsigned char *seen)
{
	char line[4096];
	FILE *fp = fopen(file, "r");
	json_t *j;
	int w, seq;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		(*lines)++;
		j = json_loads(line, 0, NULL);
		if (j == NULL || json_unpack(j, "{s:i, s:i}", "w", &w, "seq",
		    &seq) != 0 || w < 0 || w >= WRITERS || seq < 0 ||
		    seq >= PER_WRITER) {
			(*bad)++;
		} else {
			seen[w * PER_WRITER + seq]++;
		}
		json_decref(j);
	}
	if (fp != NULL)
		fclose(fp);
}

int
main(void)
{
	static unsigned char seen[WRITERS * PER_WRITER];
	pthread_t th[WRITERS];
	char rotated[300], link[300], cmd[300];
	int i, lines = 0, bad = 0, missing = 0, twice = 0;
	struct recordlog *other;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/records.jsonl", dir);
	plan(8);
	ok(recordlog_open(&rl, path, 0640) == 0, "log opens and is created");
	is_int(recordlog_write(rl, "no newline", 10), SCOPE_EINVAL,
	    "a record without its newline is refused");
	snprintf(link, sizeof(link), "%s/link.jsonl", dir);
	ok(symlink(path, link) == 0, "symlink made");
	ok(recordlog_open(&other, link, 0640) != 0, "a symbolic link is refused");
	ok(recordlog_open(&other, "/dev/null", 0640) != 0,
	    "a non-regular file is refused");

	for (i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)(long)i);
	for (i = 0; i < ROTATIONS; i++) {
		usleep(2000);
		snprintf(rotated, sizeof(rotated), "%s/records.jsonl.%d", dir, i);
		if (rename(path, rotated) != 0 || recordlog_reopen(rl) != 0)
			write_errors++;
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	recordlog_close(rl);

	count_file(path, &lines, &bad, seen);
	for (i = 0; i < ROTATIONS; i++) {
		snprintf(rotated, sizeof(rotated), "%s/records.jsonl.%d", dir, i);
		count_file(rotated, &lines, &bad, seen);
	}
	for (i = 0; i < WRITERS * PER_WRITER; i++) {
		missing += seen[i] == 0;
		twice += seen[i] > 1;
	}
	is_int(write_errors, 0, "no write or reopen failed during rotation");
	is_int(lines - bad, WRITERS * PER_WRITER,
	    "every record landed whole in exactly one file");
	ok(missing == 0 && twice == 0 && bad == 0,
	    "no record lost, none written twice, no torn line");
	if (missing || twice || bad)
		printf("# missing %d twice %d bad %d\n", missing, twice, bad);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
