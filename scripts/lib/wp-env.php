<?php
/**
 * Shared bootstrap for the harness's PHP helpers: parses --key=value options and loads a
 * site's WordPress from the command line as if a request came to its URL.
 */

function sl_opts(array $required = []): array {
	$opts = [];
	foreach (array_slice($GLOBALS['argv'], 1) as $arg) {
		if (preg_match('/^--([a-z0-9-]+)(?:=(.*))?$/s', $arg, $m)) {
			$opts[$m[1]] = $m[2] ?? '1';
		} else {
			fwrite(STDERR, "unexpected argument: $arg\n");
			exit(2);
		}
	}
	foreach ($required as $r) {
		if (!isset($opts[$r]) || $opts[$r] === '') {
			fwrite(STDERR, "missing --$r\n");
			exit(2);
		}
	}
	return $opts;
}

/** Sets up $_SERVER for a request to $url and loads $root/wp-load.php (in the global scope's terms). */
function sl_wp_server(string $root, string $url, string $uri = '/'): void {
	$u = parse_url($url);
	$host = $u['host'] . (isset($u['port']) ? ':' . $u['port'] : '');
	$_SERVER['HTTP_HOST'] = $host;
	$_SERVER['SERVER_NAME'] = $u['host'];
	$_SERVER['SERVER_PORT'] = (string) ($u['port'] ?? 80);
	$_SERVER['REQUEST_URI'] = $uri;
	$_SERVER['REQUEST_METHOD'] = 'GET';
	$_SERVER['SCRIPT_NAME'] = '/index.php';
	$_SERVER['PHP_SELF'] = '/index.php';
	$_SERVER['SCRIPT_FILENAME'] = rtrim($root, '/') . '/index.php';
	$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
	$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
	if (!is_file(rtrim($root, '/') . '/wp-load.php')) {
		fwrite(STDERR, "no WordPress at $root\n");
		exit(1);
	}
}
