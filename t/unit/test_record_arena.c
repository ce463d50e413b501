/*
 * test_record_arena.c - jansson's allocator while a record is built
 * (record_arena.c): off until initialised, one arena per thread and pair,
 * trees that span several chunks, objects from outside a pair freed by
 * free() (LeakSanitizer in the ASan build reports it if not), and every
 * record written from an arena the same as without one.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errors.h"
#include "record/record_arena.h"
#include "record/record_json.h"
#include "tap.h"

#define THREADS	4
#define ROUNDS	200

/* big_tree - an object with n members: a string, a real, a nested
 * object each (about 250 bytes of jansson per member) */
static json_t *
big_tree(unsigned n, unsigned seed)
{
	json_t *o = json_object(), *sub;
	char key[32], val[64];
	unsigned i;

	for (i = 0; i < n && o != NULL; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		snprintf(val, sizeof(val), "value %u of tree %u \"quoted\"", i,
		    seed);
		sub = json_pack("{s:s, s:f, s:[i, b]}", "s", val, "ms",
		    (double)(i * 37 + seed) / 1000.0, "l", (json_int_t)i,
		    i % 2 == 0);
		json_object_set_new(o, key, sub);
	}
	return o;
}

/* dump - the tree's text, or NULL */
static char *
dump(const json_t *t)
{
	char *out = NULL;
	size_t len;

	if (record_json_dump(t, 1 << 24, 1, &out, &len) != SCOPE_OK)
		return NULL;
	out[len] = '\0';
	return out;
}

/* test_off - before record_arena_init nothing changes */
static void
test_off(void)
{
	json_t *o;

	ok(!record_arena_begin(), "before init, begin refuses");
	o = big_tree(10, 1);
	is_int((long long)record_arena_used(), 0, "before init, jansson "
	    "allocates with malloc");
	json_decref(o);
	record_arena_end();	/* harmless without a pair */
}

/* __asan_default_options - under ASan, the impossible malloc() below
 * returns NULL as glibc's does instead of stopping the test (a hook
 * ASan reads at start; unused otherwise) */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* test_fell_back - an allocation that went to malloc() (here one too
 * large for any chunk) means the arena does not hold everything */
static void
test_fell_back(void)
{
	json_malloc_t m;
	json_free_t f;
	void *p;

	json_get_alloc_funcs(&m, &f);
	if (!record_arena_begin()) {
		ok(false, "begin for the fallback test");
		return;
	}
	p = m(SIZE_MAX);	/* past any chunk: malloc(), which fails */
	ok(!record_arena_holds_all(), "after an allocation that fell back "
	    "to malloc(), the arena does not hold everything (json_decref "
	    "then frees it)");
	f(p);
	record_arena_end();
}

/* test_pair - a tree in an arena: several chunks, the same text */
static void
test_pair(void)
{
	json_t *before, *in;
	char *want, *got;
	size_t used;

	before = big_tree(2000, 7);	/* malloc'd */
	want = dump(before);
	ok(record_arena_begin(), "begin after init");
	ok(!record_arena_begin(), "a nested begin is refused");
	in = big_tree(2000, 7);
	used = record_arena_used();
	ok(used > 3 * 32 * 1024, "a 2,000-member tree takes several chunks "
	    "(%zu bytes)", used);
	got = dump(in);
	ok(want != NULL && got != NULL && strcmp(want, got) == 0,
	    "the same text from the arena as from malloc");
	json_decref(before);	/* from outside the pair: free()d (LSan) */
	ok(record_arena_holds_all(), "a tree wholly in the arena: it goes "
	    "with the arena, no json_decref (LSan checks nothing leaks)");
	record_arena_end();
	ok(!record_arena_holds_all(), "outside a pair: nothing held");
	(void)in;	/* freed with the chunks */
	is_int((long long)record_arena_used(), 0, "end: nothing in use");
	test_fell_back();
	before = big_tree(3, 1);	/* after end: malloc again */
	ok(before != NULL && json_object_size(before) == 3,
	    "after end jansson allocates with malloc again");
	json_decref(before);
	free(want);
	free(got);
}

/* test_thread - ROUNDS pairs on one thread, each tree checked */
static void *
test_thread(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg, r;
	json_t *t;
	char *text, *first = NULL;
	bool *bad = calloc(1, sizeof(*bad));

	for (r = 0; r < ROUNDS && bad != NULL; r++) {
		if (!record_arena_begin()) {
			*bad = true;
			break;
		}
		t = big_tree(100 + r % 3 * 400, seed);
		text = dump(t);
		json_decref(t);
		record_arena_end();
		if (text == NULL)
			*bad = true;
		else if (r % 3 == 0 && first == NULL)
			first = text;
		else if (r % 3 == 0 && strcmp(first, text) != 0)
			*bad = true;
		if (text != first)
			free(text);
	}
	free(first);
	return bad;
}

/* test_threads - arenas are per thread */
static void
test_threads(void)
{
	pthread_t th[THREADS];
	unsigned i, started = 0, bad = 0;
	void *rv;

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, test_thread,
		    (void *)(size_t)i) == 0)
			started++;
	for (i = 0; i < started; i++) {
		if (pthread_join(th[i], &rv) != 0 || rv == NULL ||
		    *(bool *)rv)
			bad++;
		free(rv);
	}
	ok(started == THREADS && bad == 0, "%u threads, %u pairs each, "
	    "trees built at once: every text as expected", THREADS, ROUNDS);
}

int
main(void)
{
	plan(12);
	test_off();
	record_arena_init();
	record_arena_init();	/* idempotent */
	test_pair();
	test_threads();
	return done_testing();
}
