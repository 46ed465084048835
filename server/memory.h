// Handing the heap memory that large calls freed back to the system (glibc).
//
// glibc keeps what a thread's arena frees for that arena's later
// allocations, so an arena holds the high-water mark of the largest call it
// served. A review-wide read (every study's state, tens of megabytes) runs
// on whichever worker is free; with two arenas (see main.cc) the server's
// resident memory stayed at about twice one such read's peak. Releasing the
// freed memory after each such read keeps it near one read's peak.
#ifndef RQS_SERVER_MEMORY_H_
#define RQS_SERVER_MEMORY_H_

namespace rqs::server {

// Returns the free heap memory of every arena to the system. Takes about
// 10 ms after a 2,000-study read, so run it off the call's critical path and
// only after calls that allocate a lot.
void ReleaseFreedMemory();

}  // namespace rqs::server

#endif  // RQS_SERVER_MEMORY_H_
