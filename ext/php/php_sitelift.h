#ifndef PHP_SITELIFT_H
#define PHP_SITELIFT_H

extern "C" {
#include "php.h"
}

extern zend_module_entry sitelift_module_entry;
#define phpext_sitelift_ptr &sitelift_module_entry

// Per thread (ZTS) or process: the rewriter SiteLift\rewrite() built last and what it was built from, so a
// loop over many values with the same pairs builds it once. Freed at the end of each request.
ZEND_BEGIN_MODULE_GLOBALS(sitelift)
    void* rewrite_cache;  // RewriteCache* (sitelift.cpp)
ZEND_END_MODULE_GLOBALS(sitelift)

ZEND_EXTERN_MODULE_GLOBALS(sitelift)
#define SITELIFT_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(sitelift, v)

#if defined(ZTS) && defined(COMPILE_DL_SITELIFT)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

#endif
