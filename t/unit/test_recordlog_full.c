/*
 * test_recordlog_full.c - a record log that runs out of room never keeps
 * a torn line: records cut off by a file size limit (RLIMIT_FSIZE stands
 * in for a full disk: write(2) lands in part, then fails) are removed
 * again, every line of the file is a whole record, and every record is
 * either written or counted lost. Episodes of lost records are reported
 * once when they start and once when they end.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "errors.h"
#include "record/recordlog.h"
#include "tap.h"

#define WRITERS		4
#define PER_WRITER	3000
#define EPISODES	6

static char dir[] = "/tmp/test_recordlog_full.XXXXXX";
static char path[256];
static struct recordlog *rl;
static int outcome[WRITERS][PER_WRITER];	/* 1 written, 2 lost */
static uint64_t starts, ends, ended_lost;

/* notify - the episode callback under test */
static void
notify(void *arg, int err, uint64_t lost)
{
	(void)arg;
	if (err != 0)
		starts++;
	else {
		ends++;
		ended_lost += lost;
	}
}

/* set_fsize - the file size limit, RLIM_INFINITY for none */
static int
set_fsize(rlim_t lim)
{
	struct rlimit r = { lim, RLIM_INFINITY };

	return setrlimit(RLIMIT_FSIZE, &r);
}

/* file_size - bytes in the log now */
static off_t
file_size(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* writer - PER_WRITER records of varying size, each (writer, seq) */
static void *
writer(void *arg)
{
	static const char pad[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	long id = (long)arg;
	char text[4096];
	json_t *rec;
	size_t len;
	int i;

	for (i = 0; i < PER_WRITER; i++) {
		len = 50 + (size_t)(i * 37 + id * 101) % 3000;
		memset(text, pad[i % 36], len);
		text[len] = '\0';
		rec = json_pack("{s:i, s:i, s:s}", "w", (int)id, "seq", i,
		    "pad", text);
		outcome[id][i] = recordlog_write_json(rl, rec) == 0 ? 1 : 2;
		json_decref(rec);
	}
	return NULL;
}

/* check_file - every line a record; counts of whole lines and bad ones;
 * seen[w][seq] how often each record is in the file */
static void
check_file(int *lines, int *bad, unsigned char seen[WRITERS][PER_WRITER])
{
	static char line[8192];
	FILE *fp = fopen(path, "r");
	json_t *j;
	int w, seq;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		(*lines)++;
		j = json_loads(line, 0, NULL);
		if (j == NULL || line[strlen(line) - 1] != '\n' ||
		    json_unpack(j, "{s:i, s:i}", "w", &w, "seq", &seq) != 0 ||
		    w < 0 || w >= WRITERS || seq < 0 || seq >= PER_WRITER)
			(*bad)++;
		else
			seen[w][seq]++;
		json_decref(j);
	}
	if (fp != NULL)
		fclose(fp);
}

/* one_torn_record - a record that fits in part is removed again */
static void
one_torn_record(void)
{
	static const char rec1[] = "{\"first\":1}\n";
	char rec2[200], buf[512];
	off_t before;
	FILE *fp;
	size_t n;

	memset(rec2, 'x', sizeof(rec2));
	memcpy(rec2, "{\"p\":\"", 6);
	memcpy(rec2 + sizeof(rec2) - 3, "\"}\n", 3);
	is_int(recordlog_write(rl, rec1, sizeof(rec1) - 1), 0,
	    "a record is written");
	before = file_size();
	set_fsize((rlim_t)before + 50);
	is_int(recordlog_write(rl, rec2, sizeof(rec2)), SCOPE_EIO,
	    "a record that fits only in part fails");
	is_int(recordlog_errno(rl), EFBIG, "with the errno of the write");
	set_fsize(RLIM_INFINITY);
	ok(file_size() == before, "the part that landed is cut off again");
	is_int(recordlog_write(rl, rec1, sizeof(rec1) - 1), 0,
	    "once there is room again the next record is written");
	fp = fopen(path, "r");
	n = fp != NULL ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
	buf[n] = '\0';
	if (fp != NULL)
		fclose(fp);
	is_str(buf, "{\"first\":1}\n{\"first\":1}\n",
	    "the file holds the two whole records and nothing else");
	is_int((int)starts, 1, "the episode's start is reported once");
	ok(ends == 1 && ended_lost == 1,
	    "its end is reported once, with the one record lost");
	if (truncate(path, 0) != 0)
		diag("could not empty the log");
	starts = ends = ended_lost = 0;
}

int
main(void)
{
	static unsigned char seen[WRITERS][PER_WRITER];
	pthread_t th[WRITERS];
	int i, w, lines = 0, bad = 0, written = 0, lost = 0, wrong = 0;
	static const char last[] = "{\"w\":0,\"seq\":0,\"last\":1}\n";
	char cmd[300];

	signal(SIGXFSZ, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/records.jsonl", dir);
	plan(16);
	ok(recordlog_open(&rl, path, 0640) == 0, "log opens");
	recordlog_set_notify(rl, notify, NULL);
	one_torn_record();

	/* under load: the disk fills (limit just above the current size)
	 * and frees up again, EPISODES times */
	for (i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)(long)i);
	for (i = 0; i < EPISODES; i++) {
		set_fsize((rlim_t)file_size() + 20000);
		usleep(3000);
		set_fsize(RLIM_INFINITY);
		usleep(3000);
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	set_fsize(RLIM_INFINITY);
	/* one more record so that a last episode ends */
	is_int(recordlog_write(rl, last, strlen(last)), 0,
	    "a record after the load is written");
	recordlog_close(rl);

	check_file(&lines, &bad, seen);
	for (w = 0; w < WRITERS; w++)
		for (i = 0; i < PER_WRITER; i++) {
			written += outcome[w][i] == 1;
			lost += outcome[w][i] == 2;
			/* written: in the file once; lost: not at all (w0
			 * seq0 also has the last record) */
			wrong += seen[w][i] != (outcome[w][i] == 1 ? 1 : 0) +
			    (w == 0 && i == 0);
		}
	is_int(bad, 0, "every line of the file is a whole record");
	ok(lost > 0 && written > 0, "the load met a full disk and free space");
	is_int(written + lost, WRITERS * PER_WRITER,
	    "every record was written or counted lost");
	is_int(lines, written + 1, "the file has one line per record written");
	is_int(wrong, 0, "each written record is there once, no lost one is");
	ok(starts >= 1 && starts == ends && ended_lost == (uint64_t)lost,
	    "each episode is reported at its start and its end, with its losses");
	printf("# written %d lost %d episodes %llu lines %d bad %d\n", written,
	    lost, (unsigned long long)starts, lines, bad);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
