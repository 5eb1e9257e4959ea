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
  rollback  --path=WP_ROOT      put back the site the last import replaced
  cleanup   --path=WP_ROOT      drop what the last import kept for a rollback
  status    --path=WP_ROOT      the state of the last import, as JSON
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
		);
		if ( ! isset( $handlers[ $command ] ) ) {
			return $this->usage( "unknown command '$command'" );
		}
		try {
			$method = $handlers[ $command ];
			return $this->$method( $opts );
		} catch ( \InvalidArgumentException $e ) {
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

	private function export( array $opts ): int {
		$this->check_known( $opts, array( 'path', 'output', 'compress', 'level', 'exclude', 'no-default-excludes', 'all-tables' ) );
		$output = $this->required( $opts, 'output' );
		list( $config, $args ) = $this->target( $opts );
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
			if ( ! ctype_digit( (string) $opts['level'] ) ) {
				throw new \InvalidArgumentException( '--level must be a number' );
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
		list( , $args ) = $this->target( $opts );
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
			if ( $r['values_changed'] > 0 ) {
				$lines .= sprintf( "\n  %-40s %8d values rewritten", $table, $r['values_changed'] );
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
		$state = \SiteLift\status( $this->required( $opts, 'path' ) );
		fwrite( $this->out, json_encode( (object) $state, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES ) . "\n" );
		return 0;
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
		if ( $this->tty ) {
			$bar = str_repeat( '#', intdiv( $pct, 4 ) ) . str_repeat( '.', 25 - intdiv( $pct, 4 ) );
			fwrite( $this->err, sprintf( "\r\033[K%-9s [%s] %3d%% %s / %s %s", $p['phase'], $bar, $pct, self::bytes( $p['done'] ), self::bytes( $p['total'] ), $item ) );
		} else {
			fwrite( $this->err, sprintf( "%s %3d%% %s / %s %s\n", $p['phase'], $pct, self::bytes( $p['done'] ), self::bytes( $p['total'] ), $item ) );
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
