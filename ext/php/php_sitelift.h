#ifndef PHP_SITELIFT_H
#define PHP_SITELIFT_H

extern "C" {
#include "php.h"
}

extern zend_module_entry sitelift_module_entry;
#define phpext_sitelift_ptr &sitelift_module_entry

#if defined(ZTS) && defined(COMPILE_DL_SITELIFT)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

#endif
