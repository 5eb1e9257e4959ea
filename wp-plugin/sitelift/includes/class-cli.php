<?php
/**
 * The commands behind bin/sitelift.
 *
 * @package SiteLift
 */

namespace SiteLift\Cli;

use SiteLift\Plugin\Site_Config;

final class Cli {
	private const USAGE = <<<'TXT'
Usage: sitelift <command> [options]

Commands:
  export    --path=WP_ROOT --output=FILE [--compress=zstd|gzip|none] [--level=N]
            [--exclude=GLOB]... [--no-default-excludes] [--all-tables]
  import    --path=WP_ROOT --input=FILE [--url=DEST_URL] [--no-rewrite] [--rewrite-guids] [--threads=N]
  token     --path=DEST_ROOT [--ttl=24h] [--site-name=NAME] [--url=URL]
            create the machine token a source pushes with (shown once)
  token     --path=DEST_ROOT --revoke      revoke it
  push      --path=SRC_ROOT --token=TOKEN --site=NAME [--restart] [--exclude=GLOB]...
            [--no-default-excludes] [--all-tables] [--max-part=BYTES] [--step-seconds=S]
            move this site to the destination the token names; run again to resume
            (--step-seconds: in steps of about S seconds, each a call of its own, as wp-admin drives it)
  rollback  --path=WP_ROOT      put back the site the last import replaced
  cleanup   --path=WP_ROOT      drop what the last import kept for a rollback
  status    --path=WP_ROOT      the state of the last import as JSON, with "push" (this site's push) and
                                "receive" (its machine token and the push it receives)
  version

Common options: --json (print the result as JSON), --quiet (no progress)
Exit codes: 0 done, 1 failed (the message says why), 2 wrong usage.
TXT;

	/** @var resource */
	private $out;
	/** @var resource */
	private $err;
	/** @var float */
	private $last_progress = 0.0;
	/** @var string */
	private $last_phase = '';
	/** @var bool */
	private $tty;
	/** @var float */
	private $started = 0.0;

	/**
	 * @param resource $out
	 * @param resource $err
	 */
	public function __construct( $out, $err ) {
		$this->out = $out;
		$this->err = $err;
		$this->tty = function_exists( 'posix_isatty' ) ? @posix_isatty( $err ) : stream_isatty( $err );
	}

	public function run( array $argv ): int {
		$command = array_shift( $argv );
		if ( null === $command || in_array( $command, array( 'help', '--help', '-h' ), true ) ) {
			fwrite( $this->out, self::USAGE . "\n" );
			return null === $command ? 2 : 0;
		}
		try {
			$opts = $this->parse( $argv );
		} catch ( \InvalidArgumentException $e ) {
			return $this->usage( $e->getMessage() );
		}
		if ( 'version' === $command ) {
			fwrite( $this->out, ( extension_loaded( 'sitelift' ) ? \SiteLift\version() : 'extension not loaded' ) . "\n" );
			return 0;
		}
		if ( ! extension_loaded( 'sitelift' ) ) {
			fwrite( $this->err, "sitelift: error: the sitelift PHP extension is not loaded (php -d extension=sitelift.so ...)\n" );
			return 1;
		}
		$handlers = array(
			'export'   => 'export',
			'import'   => 'import',
			'rollback' => 'rollback',
			'cleanup'  => 'cleanup',
			'status'   => 'status',
			'token'    => 'token',
			'push'     => 'push',
		);
		if ( ! isset( $handlers[ $command ] ) ) {
			return $this->usage( "unknown command '$command'" );
		}
		try {
			$method = $handlers[ $command ];
			return $this->$method( $opts );
		} catch ( \InvalidArgumentException | \ValueError $e ) {
			$this->finish_progress();
			return $this->usage( $e->getMessage() );
		} catch ( \SiteLift\Exception $e ) {
			$this->finish_progress();
			fwrite( $this->err, 'sitelift: error: ' . $e->getMessage() . "\n" );
			return 1;
		} catch ( \RuntimeException $e ) {
			$this->finish_progress();
			fwrite( $this->err, 'sitelift: error: ' . $e->getMessage() . "\n" );
			return 1;
		}
	}

	/**
	 * --name=value, --flag and repeatable --exclude.
	 *
	 * @return array<string, mixed>
	 */
	private function parse( array $argv ): array {
		$opts = array( 'exclude' => array() );
		foreach ( $argv as $arg ) {
			if ( ! preg_match( '/^--([a-z][a-z0-9-]*)(?:=(.*))?$/s', $arg, $m ) ) {
				throw new \InvalidArgumentException( "unexpected argument '$arg'" );
			}
			$name  = $m[1];
			$value = array_key_exists( 2, $m ) ? $m[2] : true;
			if ( 'exclude' === $name ) {
				if ( true === $value || '' === $value ) {
					throw new \InvalidArgumentException( '--exclude needs a pattern' );
				}
				$opts['exclude'][] = $value;
			} else {
				$opts[ $name ] = $value;
			}
		}
		return $opts;
	}

	private function usage( string $message ): int {
		fwrite( $this->err, "sitelift: $message\n\n" . self::USAGE . "\n" );
		return 2;
	}

	private function required( array $opts, string $name ): string {
		if ( ! isset( $opts[ $name ] ) || ! is_string( $opts[ $name ] ) || '' === $opts[ $name ] ) {
			throw new \InvalidArgumentException( "--$name=... is required" );
		}
		return $opts[ $name ];
	}

	private function check_known( array $opts, array $known ): void {
		foreach ( array_keys( $opts ) as $name ) {
			if ( 'exclude' === $name && empty( $opts['exclude'] ) ) {
				continue;
			}
			if ( ! in_array( $name, array_merge( $known, array( 'json', 'quiet' ) ), true ) ) {
				throw new \InvalidArgumentException( "unknown option --$name" );
			}
		}
	}

	private function target( array $opts ): array {
		$config = Site_Config::load( $this->required( $opts, 'path' ) );
		return array( $config, array(
			'path'         => $config->root,
			'db'           => $config->db(),
			'table_prefix' => $config->table_prefix,
		) );
	}

	/**
	 * Refuses a site that keeps wp-content, its plugins or its uploads outside its root folder: a migration
	 * moves the root only, so they would be left behind (on a source), or the imported ones would not be
	 * the ones the site uses (on a destination). The same rule as in wp-admin.
	 *
	 * @throws \RuntimeException naming the folders.
	 */
	private function require_content_inside( Site_Config $config ): void {
		$upload_path = null;
		try {
			$upload_path = $this->option( $config, 'upload_path' );
		} catch ( \RuntimeException $e ) {
			// No mysqli or no database to ask: the constants of wp-config.php alone are checked; the engine
			// reports a database it cannot reach itself.
		}
		$outside = $config->content_outside_root( $upload_path );
		if ( $outside ) {
			$named = array();
			foreach ( $outside as $what => $dir ) {
				$named[] = "$what ($dir)";
			}
			throw new \RuntimeException( sprintf(
				'this site keeps %s outside its WordPress folder (%s); a migration moves that folder only, so nothing was done',
				implode( ', ', $named ),
				$config->root
			) );
		}
	}

	private function export( array $opts ): int {
		$this->check_known( $opts, array( 'path', 'output', 'compress', 'level', 'exclude', 'no-default-excludes', 'all-tables' ) );
		$output = $this->required( $opts, 'output' );
		list( $config, $args ) = $this->target( $opts );
		$this->require_content_inside( $config );
		$compress = $opts['compress'] ?? 'zstd';
		if ( ! in_array( $compress, array( 'zstd', 'gzip', 'none' ), true ) ) {
			throw new \InvalidArgumentException( '--compress must be zstd, gzip or none' );
		}
		$args += array(
			'output'           => $output,
			'compress'         => $compress,
			'exclude'          => $opts['exclude'],
			'default_excludes' => empty( $opts['no-default-excludes'] ),
			'all_tables'       => ! empty( $opts['all-tables'] ),
			'wp_version'       => $config->wp_version,
			'charset'          => (string) ( $config->constants['DB_CHARSET'] ?? '' ),
			'collate'          => (string) ( $config->constants['DB_COLLATE'] ?? '' ),
			'multisite'        => $config->multisite(),
		);
		if ( isset( $opts['level'] ) ) {
			if ( 1 !== preg_match( '/^-?[0-9]{1,3}$/D', (string) $opts['level'] ) ) {
				throw new \InvalidArgumentException( '--level must be a whole number (zstd takes -50 to 22, where -N is zstd --fast=N; gzip 1 to 9)' );
			}
			$args['level'] = (int) $opts['level'];
		}
		$args   = $this->with_progress( $opts, $args );
		$result = \SiteLift\export( $args );
		$this->finish_progress();
		return $this->report( $opts, $result, sprintf(
			"exported %d tables (%d rows) and %d files (%s) into %s (%s) in %.1f s",
			$result['tables'],
			$result['rows'],
			$result['files'],
			self::bytes( $result['file_bytes'] + $result['sql_bytes'] ),
			$output,
			self::bytes( $result['archive_bytes'] ),
			$result['seconds']
		) );
	}

	private function import( array $opts ): int {
		$this->check_known( $opts, array( 'path', 'input', 'url', 'no-rewrite', 'rewrite-guids', 'threads' ) );
		$input = $this->required( $opts, 'input' );
		if ( ! is_file( $input ) ) {
			throw new \RuntimeException( "no archive at '$input'" );
		}
		list( $config, $args ) = $this->target( $opts );
		$this->require_content_inside( $config );
		$args += array(
			'input'         => $input,
			'rewrite'       => empty( $opts['no-rewrite'] ),
			'rewrite_guids' => ! empty( $opts['rewrite-guids'] ),
		);
		if ( isset( $opts['url'] ) ) {
			$args['url'] = $this->required( $opts, 'url' );
		}
		if ( isset( $opts['threads'] ) ) {
			$args['threads'] = (int) $opts['threads'];
		}
		$args   = $this->with_progress( $opts, $args );
		$result = \SiteLift\import( $args );
		$this->finish_progress();
		$lines = sprintf(
			"imported %d tables (%d rows) and %d files (%s) in %.1f s; %s now serves the site from %s\n"
			. "%d values rewritten, %d left alone as unsafe to rewrite",
			$result['tables'],
			$result['rows'],
			$result['files'],
			self::bytes( $result['file_bytes'] ),
			$result['seconds'],
			$result['destination_url'],
			$result['source_url'],
			$result['values_changed'],
			$result['values_skipped_unsafe']
		);
		foreach ( $result['table_reports'] as $table => $r ) {
			$skipped = $r['values_skipped_unsafe'] ?? 0;
			if ( $r['values_changed'] > 0 || $skipped > 0 ) {
				$where = array();
				foreach ( $r['skipped_by_column'] ?? array() as $column => $n ) {
					$where[] = "$column: $n";
				}
				$lines .= sprintf( "\n  %-40s %8d values rewritten", $table, $r['values_changed'] )
					. ( $skipped > 0 ? sprintf( ', %d left alone (%s)', $skipped, implode( ', ', $where ) ) : '' );
			}
		}
		$lines .= "\nthe previous site is kept: `sitelift rollback` puts it back, `sitelift cleanup` drops it";
		return $this->report( $opts, $result, $lines );
	}

	private function rollback( array $opts ): int {
		$this->check_known( $opts, array( 'path' ) );
		list( , $args ) = $this->target( $opts );
		\SiteLift\rollback( $args );
		return $this->report( $opts, array( 'rolled_back' => true ), 'the previous site is back in place' );
	}

	private function cleanup( array $opts ): int {
		$this->check_known( $opts, array( 'path' ) );
		list( , $args ) = $this->target( $opts );
		\SiteLift\cleanup( $args );
		return $this->report( $opts, array( 'cleaned_up' => true ), 'backups and leftovers of earlier imports removed' );
	}

	private function status( array $opts ): int {
		$this->check_known( $opts, array( 'path' ) );
		$path  = $this->required( $opts, 'path' );
		// The last import's state at the top (as before pushes existed), the push jobs beside it.
		$state         = \SiteLift\status( $path );
		$state['push'] = (object) \SiteLift\push_status( $path );
		try {
			list( , $args ) = $this->target( $opts );
			$receive = \SiteLift\token_info( $args );
			if ( array_key_exists( 'job', $receive ) && array() === $receive['job'] ) {
				$receive['job'] = null; // no push received yet: null, as the REST status says, not []
			}
			$state['receive'] = (object) $receive;
		} catch ( \Throwable $e ) {
			$state['receive'] = (object) array( 'error' => $e->getMessage() );
		}
		fwrite( $this->out, json_encode( (object) $state, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE ) . "\n" );
		return 0;
	}

	/** "90", "90s", "30m", "24h", "7d" as seconds. */
	private static function duration( string $text ): int {
		if ( ! preg_match( '/^([0-9]+)([smhd]?)$/', $text, $m ) ) {
			throw new \InvalidArgumentException( '--ttl must be a number of seconds or like 30m, 24h, 7d' );
		}
		$unit = array(
			''  => 1,
			's' => 1,
			'm' => 60,
			'h' => 3600,
			'd' => 86400,
		);
		return (int) $m[1] * $unit[ $m[2] ];
	}

	/** A slug of the blog name, as the admin screen proposes it. */
	private static function slug( string $name ): string {
		$slug = strtolower( trim( (string) preg_replace( '/[^A-Za-z0-9]+/', '-', $name ), '-' ) );
		return '' === $slug ? 'site' : $slug;
	}

	private function token( array $opts ): int {
		$this->check_known( $opts, array( 'path', 'ttl', 'site-name', 'url', 'revoke' ) );
		list( $config, $args ) = $this->target( $opts );
		if ( ! empty( $opts['revoke'] ) ) {
			\SiteLift\token_revoke( $args );
			return $this->report( $opts, array( 'revoked' => true ), 'the machine token is revoked; pushes with it are refused' );
		}
		$this->require_content_inside( $config );
		$url  = isset( $opts['url'] ) ? $this->required( $opts, 'url' ) : $this->option( $config, 'home' );
		$name = isset( $opts['site-name'] ) ? $this->required( $opts, 'site-name' ) : self::slug( $this->option( $config, 'blogname' ) );
		$ttl  = self::duration( isset( $opts['ttl'] ) ? (string) $opts['ttl'] : '24h' );
		if ( $ttl < 60 || $ttl > 30 * 86400 ) {
			throw new \InvalidArgumentException( '--ttl must be between 1 minute and 30 days' );
		}
		$made = \SiteLift\token_create( $args, array( 'url' => rtrim( $url, '/' ), 'site_name' => $name, 'ttl' => $ttl ) );
		if ( ! empty( $opts['json'] ) ) {
			fwrite( $this->out, json_encode( $made, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES ) . "\n" );
			return 0;
		}
		fwrite( $this->err, sprintf( "machine token for '%s' at %s, valid until %s (fingerprint %s); it is shown only now:\n", $made['site_name'], $made['url'], gmdate( 'Y-m-d H:i', $made['expires_at'] ) . ' UTC', $made['fingerprint'] ) );
		fwrite( $this->out, $made['token'] . "\n" );
		return 0;
	}

	/** One option of the site, read through the extension-free mariadb-less path: the site's own database. */
	private function option( Site_Config $config, string $name ): string {
		$db   = $config->db();
		$host = $db['host'];
		$port = null;
		$sock = null;
		if ( preg_match( '/^(.*):([0-9]+)$/', $host, $m ) ) {
			$host = $m[1];
			$port = (int) $m[2];
		} elseif ( preg_match( '/^(.*):(\/.*)$/', $host, $m ) ) {
			$host = $m[1];
			$sock = $m[2];
		}
		if ( ! function_exists( 'mysqli_connect' ) ) {
			throw new \RuntimeException( "cannot read the site's $name option (no mysqli); pass it on the command line" );
		}
		mysqli_report( MYSQLI_REPORT_OFF );
		$link = @mysqli_connect( '' === $host ? 'localhost' : $host, $db['user'], $db['password'], $db['name'], $port ?? 3306, $sock );
		if ( ! $link ) {
			throw new \RuntimeException( "cannot read the site's $name option: " . mysqli_connect_error() );
		}
		$table = str_replace( '`', '``', $config->table_prefix . 'options' );
		$stmt  = mysqli_prepare( $link, "SELECT option_value FROM `$table` WHERE option_name = ?" );
		$value = '';
		if ( $stmt ) {
			mysqli_stmt_bind_param( $stmt, 's', $name );
			mysqli_stmt_execute( $stmt );
			mysqli_stmt_bind_result( $stmt, $value );
			mysqli_stmt_fetch( $stmt );
		}
		mysqli_close( $link );
		return (string) $value;
	}

	private function push( array $opts ): int {
		$this->check_known( $opts, array( 'path', 'token', 'site', 'restart', 'exclude', 'no-default-excludes', 'all-tables', 'max-part', 'step-seconds' ) );
		$token = $this->required( $opts, 'token' );
		$site  = $this->required( $opts, 'site' );
		list( $config, $args ) = $this->target( $opts );
		$this->require_content_inside( $config );
		$args += array(
			'token'            => $token,
			'site_name'        => $site,
			'exclude'          => $opts['exclude'],
			'default_excludes' => empty( $opts['no-default-excludes'] ),
			'all_tables'       => ! empty( $opts['all-tables'] ),
			'restart'          => ! empty( $opts['restart'] ),
			'wp_version'       => $config->wp_version,
			'charset'          => (string) ( $config->constants['DB_CHARSET'] ?? '' ),
			'collate'          => (string) ( $config->constants['DB_COLLATE'] ?? '' ),
			'multisite'        => $config->multisite(),
		);
		if ( isset( $opts['max-part'] ) ) {
			$args['max_part_bytes'] = (int) $opts['max-part'];
		}
		$this->started = microtime( true );
		if ( isset( $opts['step-seconds'] ) ) {
			$state = $this->push_in_steps( $args, (float) $opts['step-seconds'] );
		} else {
			$args = $this->with_progress( $opts, $args );
			try {
				$state = \SiteLift\push( $args );
			} finally {
				$this->finish_progress();
			}
		}
		$result = (array) ( $state['result'] ?? array() );
		$lines  = sprintf(
			"pushed %d tables (%s rows) and %s files in %d parts (%s sent) to %s in %d s\n%s now serves the site; %d values rewritten, %d left alone as unsafe\n"
			. 'the destination keeps its previous site: `sitelift rollback --path=...` there puts it back',
			$state['tables'] ?? 0,
			$result['rows'] ?? '?',
			$result['files'] ?? ( $state['files'] ?? '?' ),
			$state['parts'] ?? 0,
			self::bytes( $state['sent_bytes'] ?? 0 ),
			$state['destination_url'] ?? '?',
			(int) round( microtime( true ) - $this->started ),
			$result['destination_url'] ?? ( $state['destination_url'] ?? '?' ),
			$result['values_changed'] ?? 0,
			$result['values_skipped_unsafe'] ?? 0
		);
		$state['warnings'] = array_merge( (array) ( $state['warnings'] ?? array() ), (array) ( $result['warnings'] ?? array() ) );
		unset( $state['log'] );
		return $this->report( $opts, $state, $lines );
	}

	/**
	 * The push as wp-admin drives it: one engine call a step, each with a fresh process state, retrying what the
	 * engine calls transient for up to ten minutes.
	 */
	private function push_in_steps( array $args, float $seconds ): array {
		$seconds       = max( 0.0, $seconds );
		$failing_since = null;
		for ( ;; ) {
			$state           = \SiteLift\push_step( $args, $seconds );
			$args['restart'] = false; // Only the first step may start afresh.
			$phase           = (string) ( $state['phase'] ?? '' );
			if ( 'done' === $phase ) {
				return $state;
			}
			if ( 'failed' === $phase || 'cancelled' === $phase ) {
				throw new \RuntimeException( 'push ' . $phase . ': ' . (string) ( $state['error'] ?? '' ) );
			}
			if ( '' !== (string) ( $state['retry'] ?? '' ) ) {
				$failing_since = $failing_since ?? microtime( true );
				if ( microtime( true ) - $failing_since > 600 ) {
					throw new \RuntimeException( (string) $state['retry'] . '; gave up after 10 minutes of retries (run the push again to resume)' );
				}
				sleep( 1 );
			} else {
				$failing_since = null;
			}
		}
	}

	private function report( array $opts, array $result, string $text ): int {
		if ( ! empty( $opts['json'] ) ) {
			fwrite( $this->out, json_encode( $result, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE ) . "\n" );
		} else {
			fwrite( $this->out, $text . "\n" );
		}
		foreach ( $result['warnings'] ?? array() as $warning ) {
			fwrite( $this->err, "sitelift: warning: $warning\n" );
		}
		return 0;
	}

	private function with_progress( array $opts, array $args ): array {
		if ( empty( $opts['quiet'] ) ) {
			$args['progress'] = array( $this, 'progress' );
		}
		return $args;
	}

	/** Receives the engine's progress reports: a live bar on a terminal, a line now and then elsewhere. */
	public function progress( array $p ): void {
		$now = microtime( true );
		if ( $p['phase'] === $this->last_phase && $now - $this->last_progress < ( $this->tty ? 0.2 : 5.0 ) ) {
			return;
		}
		$this->last_phase    = $p['phase'];
		$this->last_progress = $now;
		$pct                 = $p['total'] > 0 ? min( 100, (int) floor( 100 * $p['done'] / $p['total'] ) ) : 0;
		$item                = strlen( $p['item'] ) > 40 ? '…' . substr( $p['item'], -39 ) : $p['item'];
		$rate = '';
		if ( $this->started > 0 && $now - $this->started >= 1 && $p['done'] > 0 ) {
			$per_second = $p['done'] / ( $now - $this->started );
			$left       = $per_second > 0 ? (int) ( ( $p['total'] - $p['done'] ) / $per_second ) : 0;
			$rate       = sprintf( ' %s/s ETA %d:%02d', self::bytes( (int) $per_second ), intdiv( $left, 60 ), $left % 60 );
		}
		if ( $this->tty ) {
			$bar = str_repeat( '#', intdiv( $pct, 4 ) ) . str_repeat( '.', 25 - intdiv( $pct, 4 ) );
			fwrite( $this->err, sprintf( "\r\033[K%-9s [%s] %3d%% %s / %s%s %s", $p['phase'], $bar, $pct, self::bytes( $p['done'] ), self::bytes( $p['total'] ), $rate, $item ) );
		} else {
			fwrite( $this->err, sprintf( "%s %3d%% %s / %s%s %s\n", $p['phase'], $pct, self::bytes( $p['done'] ), self::bytes( $p['total'] ), $rate, $item ) );
		}
	}

	private function finish_progress(): void {
		if ( $this->tty && '' !== $this->last_phase ) {
			fwrite( $this->err, "\r\033[K" );
		}
		$this->last_phase = '';
	}

	private static function bytes( $n ): string {
		$units = array( 'B', 'KB', 'MB', 'GB', 'TB' );
		$i     = 0;
		$n     = (float) $n;
		while ( $n >= 1024 && $i < count( $units ) - 1 ) {
			$n /= 1024;
			++$i;
		}
		return ( 0 === $i ? (string) (int) $n : sprintf( '%.1f', $n ) ) . ' ' . $units[ $i ];
	}
}
