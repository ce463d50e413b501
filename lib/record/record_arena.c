/*
 * record_arena.c - jansson's allocator while a record is built: bump
 * allocation in per-thread chunks, nothing freed until the record is
 * dropped (see record_arena.h for the rules).
 *
 * The chunks of one arena form a list, the newest first. An allocation is
 * taken from the head when it fits, else from a new head twice the size
 * of the last (RECORD_ARENA_FIRST at first; one that is larger than that
 * gets a chunk of its own). A free is a no-op when the pointer lies in one
 * of the calling thread's chunks, and free() otherwise: objects jansson
 * made with malloc() before the pair, or on other threads, are freed as
 * they always were.
 */
#include <jansson.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "record/record_arena.h"

#define RECORD_ARENA_FIRST	(32 * 1024)	/* one typical record's tree */
#define RECORD_ARENA_ALIGN	alignof(max_align_t)

struct record_arena_chunk {
	struct record_arena_chunk *next;	/* older */
	size_t size;		/* bytes of data */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

static __thread struct record_arena_chunk *record_arena_head;
static __thread bool record_arena_active;
static __thread bool record_arena_fell_back;	/* a malloc() in this pair */
static bool record_arena_ready;

/* record_arena_chunk_new - a chunk with room for at least n bytes, put at
 * the head of the list; NULL when malloc() fails */
static struct record_arena_chunk *
record_arena_chunk_new(size_t n)
{
	struct record_arena_chunk *c;
	size_t size = RECORD_ARENA_FIRST;

	if (record_arena_head != NULL && record_arena_head->size <= SIZE_MAX / 4)
		size = record_arena_head->size * 2;
	if (size < n)
		size = n;
	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->next = record_arena_head;
	c->size = size;
	c->used = 0;
	record_arena_head = c;
	return c;
}

/* record_arena_fallback - malloc() for an allocation the arena cannot
 * take, noted so that the tree is freed node by node */
static void *
record_arena_fallback(size_t n)
{
	record_arena_fell_back = true;
	return malloc(n);
}

/* record_arena_malloc - jansson's malloc: the arena's when active */
static void *
record_arena_malloc(size_t n)
{
	struct record_arena_chunk *c = record_arena_head;
	void *p;

	if (!record_arena_active)
		return malloc(n);
	if (n > SIZE_MAX - RECORD_ARENA_ALIGN)
		return record_arena_fallback(n);
	n = (n + RECORD_ARENA_ALIGN - 1) & ~(size_t)(RECORD_ARENA_ALIGN - 1);
	if (n == 0)
		n = RECORD_ARENA_ALIGN;
	if (c == NULL || c->size - c->used < n) {
		if ((c = record_arena_chunk_new(n)) == NULL)
			return record_arena_fallback(n);
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

/* record_arena_owns - p lies in one of this thread's chunks */
static bool
record_arena_owns(const void *p)
{
	const struct record_arena_chunk *c;
	uintptr_t a = (uintptr_t)p;

	for (c = record_arena_head; c != NULL; c = c->next)
		if (a >= (uintptr_t)c->data && a < (uintptr_t)c->data + c->size)
			return true;
	return false;
}

/* record_arena_free - jansson's free: nothing for the arena's memory */
static void
record_arena_free(void *p)
{
	if (p == NULL || record_arena_owns(p))
		return;
	free(p);
}

/* record_arena_init - install the allocator in jansson (idempotent; call
 * before there are threads) */
void
record_arena_init(void)
{
	if (record_arena_ready)
		return;
	json_set_alloc_funcs(record_arena_malloc, record_arena_free);
	record_arena_ready = true;
}

/* record_arena_begin - start this thread's arena */
bool
record_arena_begin(void)
{
	if (!record_arena_ready || record_arena_active)
		return false;
	record_arena_active = true;
	record_arena_fell_back = false;
	return true;
}

/* record_arena_holds_all - inside a pair, and nothing since begin came
 * from malloc() */
bool
record_arena_holds_all(void)
{
	return record_arena_active && !record_arena_fell_back;
}

/* record_arena_end - release every chunk of this thread's arena */
void
record_arena_end(void)
{
	struct record_arena_chunk *c;

	record_arena_active = false;
	while ((c = record_arena_head) != NULL) {
		record_arena_head = c->next;
		free(c);
	}
}

/* record_arena_used - bytes handed out since begin: the chunks' use */
size_t
record_arena_used(void)
{
	const struct record_arena_chunk *c;
	size_t n = 0;

	for (c = record_arena_head; c != NULL; c = c->next)
		n += c->used;
	return n;
}
