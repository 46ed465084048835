#include "server/memory.h"

#include <malloc.h>

namespace rqs::server {

void ReleaseFreedMemory() { malloc_trim(0); }

}  // namespace rqs::server
