/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 28456f8608e3c37d28ccd55c64907561805ef683 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_version, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_export, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

#define arginfo_SiteLift_import arginfo_SiteLift_export

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_rollback, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

#define arginfo_SiteLift_cleanup arginfo_SiteLift_rollback

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_status, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_rewrite, 0, 2, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, pairs, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, all_forms, _IS_BOOL, 0, "true")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_token_create, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, site, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_token_revoke, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, site, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_token_info, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, site, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_receive, 0, 5, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, site, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, method, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, target, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, body, IS_MIXED, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_receive_authenticate, 0, 5, IS_ARRAY, 1)
	ZEND_ARG_TYPE_INFO(0, site, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, method, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, target, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, headers, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, body, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_SiteLift_push arginfo_SiteLift_export

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_push_step, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, seconds, IS_DOUBLE, 0, "20.0")
ZEND_END_ARG_INFO()

#define arginfo_SiteLift_push_status arginfo_SiteLift_status

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_SiteLift_push_cancel, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(SiteLift_version);
ZEND_FUNCTION(SiteLift_export);
ZEND_FUNCTION(SiteLift_import);
ZEND_FUNCTION(SiteLift_rollback);
ZEND_FUNCTION(SiteLift_cleanup);
ZEND_FUNCTION(SiteLift_status);
ZEND_FUNCTION(SiteLift_rewrite);
ZEND_FUNCTION(SiteLift_token_create);
ZEND_FUNCTION(SiteLift_token_revoke);
ZEND_FUNCTION(SiteLift_token_info);
ZEND_FUNCTION(SiteLift_receive);
ZEND_FUNCTION(SiteLift_receive_authenticate);
ZEND_FUNCTION(SiteLift_push);
ZEND_FUNCTION(SiteLift_push_step);
ZEND_FUNCTION(SiteLift_push_status);
ZEND_FUNCTION(SiteLift_push_cancel);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("SiteLift", version, SiteLift_version, arginfo_SiteLift_version)
	ZEND_NS_FALIAS("SiteLift", export, SiteLift_export, arginfo_SiteLift_export)
	ZEND_NS_FALIAS("SiteLift", import, SiteLift_import, arginfo_SiteLift_import)
	ZEND_NS_FALIAS("SiteLift", rollback, SiteLift_rollback, arginfo_SiteLift_rollback)
	ZEND_NS_FALIAS("SiteLift", cleanup, SiteLift_cleanup, arginfo_SiteLift_cleanup)
	ZEND_NS_FALIAS("SiteLift", status, SiteLift_status, arginfo_SiteLift_status)
	ZEND_NS_FALIAS("SiteLift", rewrite, SiteLift_rewrite, arginfo_SiteLift_rewrite)
	ZEND_NS_FALIAS("SiteLift", token_create, SiteLift_token_create, arginfo_SiteLift_token_create)
	ZEND_NS_FALIAS("SiteLift", token_revoke, SiteLift_token_revoke, arginfo_SiteLift_token_revoke)
	ZEND_NS_FALIAS("SiteLift", token_info, SiteLift_token_info, arginfo_SiteLift_token_info)
	ZEND_NS_FALIAS("SiteLift", receive, SiteLift_receive, arginfo_SiteLift_receive)
	ZEND_NS_FALIAS("SiteLift", receive_authenticate, SiteLift_receive_authenticate, arginfo_SiteLift_receive_authenticate)
	ZEND_NS_FALIAS("SiteLift", push, SiteLift_push, arginfo_SiteLift_push)
	ZEND_NS_FALIAS("SiteLift", push_step, SiteLift_push_step, arginfo_SiteLift_push_step)
	ZEND_NS_FALIAS("SiteLift", push_status, SiteLift_push_status, arginfo_SiteLift_push_status)
	ZEND_NS_FALIAS("SiteLift", push_cancel, SiteLift_push_cancel, arginfo_SiteLift_push_cancel)
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_Exception_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_UsageException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_IoException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_ArchiveException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_IntegrityException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_SecurityException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_DatabaseException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_SiteLift_StateException_methods[] = {
	ZEND_FE_END
};

static zend_class_entry *register_class_SiteLift_Exception(zend_class_entry *class_entry_RuntimeException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "Exception", class_SiteLift_Exception_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_RuntimeException);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_UsageException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "UsageException", class_SiteLift_UsageException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_IoException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "IoException", class_SiteLift_IoException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_ArchiveException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "ArchiveException", class_SiteLift_ArchiveException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_IntegrityException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "IntegrityException", class_SiteLift_IntegrityException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_SecurityException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "SecurityException", class_SiteLift_SecurityException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_DatabaseException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "DatabaseException", class_SiteLift_DatabaseException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}

static zend_class_entry *register_class_SiteLift_StateException(zend_class_entry *class_entry_SiteLift_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "SiteLift", "StateException", class_SiteLift_StateException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_SiteLift_Exception);

	return class_entry;
}
