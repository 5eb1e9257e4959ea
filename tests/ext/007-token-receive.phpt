--TEST--
Machine tokens and the receiving side: requests signed in plain PHP (hash_hkdf, hash_hmac) are checked as the format says
--EXTENSIONS--
sitelift
--SKIPIF--
<?php if (!getenv('SITELIFT_TEST_DB_HOST')) die('skip SITELIFT_TEST_DB_* not set (scripts/test sets them)'); ?>
--FILE--
<?php
require __DIR__ . '/lib/testdb.inc';
$db = sitelift_test_db();
$root = sitelift_temp_dir();
file_put_contents("$root/wp-config.php", "<?php\n");
sitelift_make_options_table($db, 'rcv_', 'http://dest.test');
$site = ['path' => $root, 'db' => $db, 'table_prefix' => 'rcv_'];

function b64url_decode(string $s): string { return base64_decode(strtr($s, '-_', '+/')); }

$made = SiteLift\token_create($site, ['url' => 'http://dest.test', 'site_name' => 'dest', 'ttl' => 3600]);
var_dump((bool) preg_match('/^sl1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/', $made['token']));
var_dump($made['site_name'], $made['url'], $made['expires_at'] > time() + 3500);
[, $payload, $secret64] = explode('.', $made['token']);
$payload = json_decode(b64url_decode($payload), true);
$secret = b64url_decode($secret64);
$id = $payload['i'];

$info = SiteLift\token_info($site);
$flat = json_encode($info);
var_dump(str_contains($flat, $secret64), str_contains($flat, bin2hex($secret)), (bool) preg_match('/[0-9a-f]{64}/', $flat));
var_dump($info['site_name'], $info['revoked'], $info['expired'], $info['fingerprint'] === $made['fingerprint']);

// The format in crypto.hpp, implemented again here.
$mac = hash_hkdf('sha256', $secret, 32, 'sitelift v1 request mac', $id);
function signed(string $mac, string $id, string $method, string $target, string $body, ?string $nonce = null, ?int $ts = null): array {
    $ts ??= time();
    $nonce ??= bin2hex(random_bytes(16));
    $canonical = "sitelift-v1-request\n$method\n$target\n$ts\n$nonce\n" . hash('sha256', $body);
    return ['X-SiteLift-Token' => $id, 'X-SiteLift-Timestamp' => (string) $ts, 'X-SiteLift-Nonce' => $nonce,
            'X-SiteLift-Signature' => hash_hmac('sha256', $canonical, $mac)];
}
function show(string $label, array $r): void {
    echo $label, ': ', $r['status'], ' ', $r['body']['code'], "\n";
}
$jobs = '/index.php?rest_route=/sitelift/v1/jobs';
$job = bin2hex(random_bytes(16));
$hello = json_encode(['job' => $job, 'site_name' => 'dest', 'source' => ['url' => 'http://src.test']]);

show('unsigned', SiteLift\receive($site, 'POST', $jobs, [], $hello));
show('bad signature', SiteLift\receive($site, 'POST', $jobs, ['X-SiteLift-Signature' => str_repeat('0', 64)] + signed($mac, $id, 'POST', $jobs, $hello), $hello));
show('stale', SiteLift\receive($site, 'POST', $jobs, signed($mac, $id, 'POST', $jobs, $hello, null, time() - 1000), $hello));
show('other body', SiteLift\receive($site, 'POST', $jobs, signed($mac, $id, 'POST', $jobs, $hello), $hello . ' '));
$wrong = json_encode(['job' => $job, 'site_name' => 'staging', 'source' => []]);
show('wrong site', SiteLift\receive($site, 'POST', $jobs, signed($mac, $id, 'POST', $jobs, $wrong), $wrong));
var_dump(SiteLift\token_info($site)['job']);

$h = signed($mac, $id, 'POST', $jobs, $hello);
var_dump(SiteLift\receive_authenticate($site, 'POST', $jobs, $h, $hello));
$r = SiteLift\receive($site, 'POST', $jobs, $h, $hello);
show('handshake', $r);
var_dump($r['body']['job'] === $job, $r['body']['next_index'], $r['body']['limits']['free_disk'] > 0);
show('replayed', SiteLift\receive($site, 'POST', $jobs, $h, $hello));
$other = json_encode(['job' => bin2hex(random_bytes(16)), 'site_name' => 'dest']);
show('second job', SiteLift\receive($site, 'POST', $jobs, signed($mac, $id, 'POST', $jobs, $other), $other));

$part = "$jobs/$job/parts/0";
show('garbage part', SiteLift\receive($site, 'PUT', $part, signed($mac, $id, 'PUT', $part, 'xxxx'), 'xxxx'));
$status = "$jobs/$job";
show('status', SiteLift\receive($site, 'GET', $status, signed($mac, $id, 'GET', $status, ''), ''));
// A body may also be a stream (transfer.php passes php://input): read to its end, signed over the same bytes.
$stream = fopen('php://temp', 'w+b');
fwrite($stream, 'xxxx');
rewind($stream);
show('garbage part, streamed', SiteLift\receive($site, 'PUT', $part, signed($mac, $id, 'PUT', $part, 'xxxx'), $stream));
$stream = fopen('php://temp', 'w+b');
fwrite($stream, 'xxxx');
rewind($stream);
show('other body, streamed', SiteLift\receive($site, 'PUT', $part, signed($mac, $id, 'PUT', $part, 'xxx'), $stream));
show('status, streamed', SiteLift\receive($site, 'GET', $status, signed($mac, $id, 'GET', $status, ''), fopen('php://memory', 'rb')));
try {
    SiteLift\receive($site, 'GET', $status, [], 42);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
var_dump(SiteLift\token_info($site)['job']['phase']);

SiteLift\token_revoke($site);
show('revoked', SiteLift\receive($site, 'GET', $status, signed($mac, $id, 'GET', $status, ''), ''));
var_dump(SiteLift\token_info($site)['revoked']);

try {
    SiteLift\token_create($site, ['url' => 'ftp://nope', 'site_name' => 'dest']);
} catch (SiteLift\UsageException $e) {
    echo get_class($e), "\n";
    var_dump($e->getTrace()[0]['args'][0] instanceof SensitiveParameterValue);
}
SiteLift\cleanup($site);
sitelift_drop_tables($db, 'rcv_');
sitelift_remove_dir($root);
?>
--EXPECT--
bool(true)
string(4) "dest"
string(16) "http://dest.test"
bool(true)
bool(false)
bool(false)
bool(false)
string(4) "dest"
bool(false)
bool(false)
bool(true)
unsigned: 401 sitelift_unsigned
bad signature: 401 sitelift_bad_signature
stale: 401 sitelift_stale
other body: 401 sitelift_bad_signature
wrong site: 409 sitelift_wrong_site
array(0) {
}
NULL
handshake: 200 sitelift_ok
bool(true)
int(0)
bool(true)
replayed: 401 sitelift_replayed
second job: 409 sitelift_busy
garbage part: 400 sitelift_part_unauthenticated
status: 200 sitelift_ok
garbage part, streamed: 400 sitelift_part_unauthenticated
other body, streamed: 401 sitelift_bad_signature
status, streamed: 200 sitelift_ok
SiteLift\receive(): Argument #5 ($body) must be of type string or a stream resource, int given
string(9) "receiving"
revoked: 403 sitelift_token_revoked
bool(true)
SiteLift\UsageException
bool(true)
