/*
 * record_arena.h - one region of memory for the JSON tree of one record.
 *
 * A record is a jansson tree of about 250 small nodes that lives for a
 * few microseconds: built, counted, written, dropped. Taking each node
 * from malloc() and giving it back one by one was a tenth of the milter's
 * instructions per message (docs/performance.md). Between
 * record_arena_begin() and record_arena_end() the calling thread's jansson
 * allocations come from a few large chunks instead, and jansson's frees of
 * them cost nothing; record_arena_end() releases the chunks at once.
 *
 * Rules:
 *  - record_arena_init() installs the allocator in jansson once, before
 *    the process has threads (the daemon's start-up). Until then, and on
 *    any thread outside a begin/end pair, jansson uses malloc() and free()
 *    exactly as before; objects of either kind can be freed anywhere.
 *  - Nothing allocated by jansson between begin and end may outlive end:
 *    the tree is built and used inside the pair, and json_decref()ed
 *    there unless record_arena_holds_all() says end frees it all. A node
 *    freed after end is freed into memory that is gone; with ASan that is
 *    a report, without it free() aborts (never silent corruption of a
 *    record, since the chunks are never reused).
 *  - Pairs do not nest (a nested begin returns false and changes nothing).
 *  - A chunk that cannot be allocated makes that one allocation fall back
 *    to malloc(): never a failure that plain jansson would not have had.
 *
 * Thread safety: the arena is per thread; begin and end are called by the
 * thread that builds the record.
 */
#ifndef SMTPSCOPE_RECORD_ARENA_H
#define SMTPSCOPE_RECORD_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* record_arena_init - install the allocator in jansson (idempotent) */
void record_arena_init(void);

/* record_arena_begin - this thread's jansson allocations go to a new
 * arena; false when already inside a pair or not initialised */
bool record_arena_begin(void);

/* record_arena_end - release the arena begun by this thread (none: no-op) */
void record_arena_end(void);

/* record_arena_holds_all - true inside a pair when every jansson
 * allocation since begin came from the arena (none fell back to malloc):
 * a tree built in the pair then goes with record_arena_end() and need
 * not be json_decref()ed (which walks every node to free nothing) */
bool record_arena_holds_all(void);

/* record_arena_used - bytes handed out by this thread's current arena */
size_t record_arena_used(void);

#endif
