--TEST--
SiteLift\version() and the exception hierarchy
--EXTENSIONS--
sitelift
--FILE--
<?php
var_dump(SiteLift\version() === phpversion('sitelift'));
var_dump((bool) preg_match('/^\d+\.\d+\.\d+/', SiteLift\version()));
foreach (['Usage', 'Io', 'Archive', 'Integrity', 'Security', 'Database', 'State'] as $kind) {
    $class = "SiteLift\\{$kind}Exception";
    echo $class, ': ', get_parent_class($class), "\n";
}
var_dump(is_subclass_of('SiteLift\Exception', 'RuntimeException'));
$f = new ReflectionFunction('SiteLift\export');
var_dump($f->getParameters()[0]->getAttributes()[0]->getName());
?>
--EXPECT--
bool(true)
bool(true)
SiteLift\UsageException: SiteLift\Exception
SiteLift\IoException: SiteLift\Exception
SiteLift\ArchiveException: SiteLift\Exception
SiteLift\IntegrityException: SiteLift\Exception
SiteLift\SecurityException: SiteLift\Exception
SiteLift\DatabaseException: SiteLift\Exception
SiteLift\StateException: SiteLift\Exception
bool(true)
string(18) "SensitiveParameter"
