<?php
/**
 * The pre-flight summary of the source screen: how big the database and the files are and where the bulk is,
 * what the site holds, which versions run here (and, once connected, at the destination), and what will not
 * carry over or needs attention.
 *
 * Reading sizes walks the whole site, so the result is kept in a transient for a while; the screen can ask
 * for a fresh one.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Preflight {
	public const TRANSIENT = 'sitelift_preflight';
	/** Seconds the file walk may take before the summary says its sizes are partial. */
	public const WALK_SECONDS = 10.0;
	/** How many tables and folders the charts show. */
	public const TOP = 8;

	/**
	 * The summary, from the transient unless $fresh.
	 */
	public static function summary( bool $fresh = false ): array {
		if ( ! $fresh ) {
			$cached = get_transient( self::TRANSIENT );
			if ( is_array( $cached ) ) {
				return $cached;
			}
		}
		$database = self::database();
		$files    = self::files();
		$summary  = array(
			'generated_at' => time(),
			'database'     => $database,
			'files'        => $files,
			'counts'       => self::counts( $files ),
			'versions'     => self::versions(),
			'warnings'     => self::warnings( $database ),
		);
		set_transient( self::TRANSIENT, $summary, 10 * MINUTE_IN_SECONDS );
		return $summary;
	}

	// ------------------------------------------------------------------------------------------- database

	private static function database(): array {
		global $wpdb;
		$like   = $wpdb->esc_like( $wpdb->base_prefix ) . '%';
		$tables = $wpdb->get_results(
			$wpdb->prepare(
				'SELECT t.TABLE_NAME AS name, t.ENGINE AS engine, t.TABLE_COLLATION AS collation, t.TABLE_ROWS AS row_estimate,
					COALESCE(t.DATA_LENGTH, 0) + COALESCE(t.INDEX_LENGTH, 0) AS bytes,
					(SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS c
						WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = %s) AS has_pk
				FROM information_schema.TABLES t
				WHERE t.TABLE_SCHEMA = %s AND t.TABLE_TYPE = %s AND t.TABLE_NAME LIKE %s
				ORDER BY bytes DESC, t.TABLE_NAME',
				'PRIMARY KEY',
				DB_NAME,
				'BASE TABLE',
				$like
			),
			ARRAY_A
		);
		$total   = 0;
		$list    = array();
		$no_pk   = array();
		$not_mb4 = array();
		foreach ( (array) $tables as $t ) {
			$bytes  = (int) $t['bytes'];
			$total += $bytes;
			$list[] = array(
				'name'  => (string) $t['name'],
				'bytes' => $bytes,
				'rows'  => (int) $t['row_estimate'],
			);
			if ( 0 === (int) $t['has_pk'] ) {
				$no_pk[] = (string) $t['name'];
			}
			$collation = (string) $t['collation'];
			if ( '' !== $collation && 0 !== strpos( $collation, 'utf8mb4' ) ) {
				$not_mb4[] = $t['name'] . ' (' . $collation . ')';
			}
		}
		return array(
			'bytes'         => $total,
			'table_count'   => count( $list ),
			'largest'       => array_slice( $list, 0, self::TOP ),
			'no_primary'    => $no_pk,
			'not_utf8mb4'   => $not_mb4,
		);
	}

	// ------------------------------------------------------------------------------------------- files

	/** Does the push leave this path (relative to the root) out anyway? Mirrors the engine's usual excludes. */
	private static function skipped( string $rel, array $globs ): bool {
		static $fixed = array( '.sitelift', '.git', '.svn', '.hg', 'wp-content/cache', 'wp-content/et-cache', 'wp-content/upgrade', 'wp-config.php' );
		foreach ( $fixed as $f ) {
			if ( $rel === $f || 0 === strpos( $rel, $f . '/' ) ) {
				return true;
			}
		}
		foreach ( $globs as $g ) {
			if ( fnmatch( $g, $rel, FNM_PATHNAME ) || fnmatch( $g, $rel ) ) {
				return true;
			}
		}
		return false;
	}

	/** The bucket a file's size counts towards: its top-level folder, one level deeper inside wp-content. */
	private static function bucket( string $rel ): string {
		$parts = explode( '/', $rel );
		if ( count( $parts ) === 1 ) {
			return '/';
		}
		if ( 'wp-content' === $parts[0] && count( $parts ) > 2 ) {
			return 'wp-content/' . $parts[1];
		}
		return $parts[0];
	}

	private static function files(): array {
		$root     = Engine::root();
		$globs    = Engine::excludes();
		$deadline = microtime( true ) + self::WALK_SECONDS;
		$buckets  = array();
		$bytes    = 0;
		$count    = 0;
		$folders  = 0;
		$partial  = false;
		$stack    = array( '' );
		while ( $stack ) {
			$rel_dir = array_pop( $stack );
			$handle  = @opendir( '' === $rel_dir ? $root : $root . '/' . $rel_dir ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
			if ( false === $handle ) {
				continue;
			}
			while ( false !== ( $name = readdir( $handle ) ) ) { // phpcs:ignore WordPress.CodeAnalysis.AssignmentInCondition
				if ( '.' === $name || '..' === $name ) {
					continue;
				}
				$rel = '' === $rel_dir ? $name : $rel_dir . '/' . $name;
				if ( self::skipped( $rel, $globs ) ) {
					continue;
				}
				$path = $root . '/' . $rel;
				if ( is_link( $path ) ) {
					++$count;
					continue;
				}
				if ( is_dir( $path ) ) {
					++$folders;
					$stack[] = $rel;
					continue;
				}
				$size   = (int) @filesize( $path ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
				$bucket = self::bucket( $rel );
				$bytes += $size;
				++$count;
				$buckets[ $bucket ] = ( $buckets[ $bucket ] ?? 0 ) + $size;
			}
			closedir( $handle );
			if ( microtime( true ) > $deadline ) {
				$partial = (bool) $stack;
				break;
			}
		}
		arsort( $buckets );
		$largest = array();
		foreach ( array_slice( $buckets, 0, self::TOP, true ) as $name => $size ) {
			$largest[] = array(
				'name'  => '/' === $name ? __( '(files in the root)', 'sitelift' ) : $name . '/',
				'bytes' => $size,
			);
		}
		return array(
			'bytes'   => $bytes,
			'count'   => $count,
			'folders' => $folders,
			'largest' => $largest,
			'partial' => $partial,
		);
	}

	// ------------------------------------------------------------------------------------------- counts, versions

	private static function counts( array $files ): array {
		$posts    = wp_count_posts( 'post' );
		$pages    = wp_count_posts( 'page' );
		$media    = wp_count_posts( 'attachment' );
		$comments = wp_count_comments();
		$users    = count_users();
		if ( ! function_exists( 'get_plugins' ) ) {
			require_once ABSPATH . 'wp-admin/includes/plugin.php';
		}
		return array(
			'posts'    => (int) ( $posts->publish ?? 0 ),
			'pages'    => (int) ( $pages->publish ?? 0 ),
			'media'    => (int) ( $media->inherit ?? 0 ),
			'comments' => (int) ( $comments->approved ?? 0 ),
			'users'    => (int) ( $users['total_users'] ?? 0 ),
			'plugins'  => count( get_plugins() ),
			'themes'   => count( wp_get_themes() ),
			'files'    => (int) $files['count'],
		);
	}

	private static function versions(): array {
		global $wpdb;
		$server = (string) $wpdb->get_var( 'SELECT VERSION()' );
		return array(
			'php'       => PHP_VERSION,
			'wordpress' => (string) get_bloginfo( 'version' ),
			'database'  => $server,
			'multisite' => is_multisite(),
		);
	}

	// ------------------------------------------------------------------------------------------- warnings

	/**
	 * @return array<int, array{code: string, message: string}>
	 */
	private static function warnings( array $database ): array {
		$warnings = array();
		if ( is_multisite() ) {
			$warnings[] = array(
				'code'    => 'multisite',
				'message' => __( 'This is a multisite network. SiteLift moves single sites: a network keeps its sites\' addresses in its own tables and in wp-config.php, so a migration to another address is refused.', 'sitelift' ),
			);
		}
		$outside = Engine::content_outside_root();
		if ( $outside ) {
			$warnings[] = array(
				'code'    => 'content_outside',
				'message' => sprintf(
					/* translators: %s: folder names. */
					__( 'These folders are outside the WordPress folder, which is all a migration moves; SiteLift refuses to start until they are inside it: %s.', 'sitelift' ),
					implode( ', ', $outside )
				),
			);
		}
		$content = untrailingslashit( WP_CONTENT_DIR );
		foreach ( array( 'object-cache.php', 'advanced-cache.php', 'db.php' ) as $dropin ) {
			if ( is_file( $content . '/' . $dropin ) ) {
				$warnings[] = array(
					'code'    => 'dropin',
					'message' => sprintf(
						/* translators: %s: file name such as object-cache.php. */
						__( 'The drop-in wp-content/%s is copied too. If the destination\'s host does not offer the same cache service, remove it there after the migration.', 'sitelift' ),
						$dropin
					),
				);
			}
		}
		$redirects = self::htaccess_redirects( Engine::root() . '/.htaccess' );
		if ( $redirects ) {
			$warnings[] = array(
				'code'    => 'htaccess',
				'message' => sprintf(
					/* translators: %d: number of rules. */
					_n(
						'.htaccess has %d redirect rule besides WordPress\'s own. It is copied, but only Apache and LiteSpeed read it: on nginx the destination\'s host has to add it to the server configuration.',
						'.htaccess has %d redirect rules besides WordPress\'s own. They are copied, but only Apache and LiteSpeed read them: on nginx the destination\'s host has to add them to the server configuration.',
						count( $redirects ),
						'sitelift'
					),
					count( $redirects )
				),
				'details' => $redirects,
			);
		}
		if ( $database['no_primary'] ) {
			$warnings[] = array(
				'code'    => 'no_primary_key',
				'message' => sprintf(
					/* translators: %s: table names. */
					__( 'Tables without a primary key are sent in row order, which the database only keeps stable while nothing writes to them: %s. Avoid changes to them during the migration.', 'sitelift' ),
					implode( ', ', $database['no_primary'] )
				),
			);
		}
		if ( $database['not_utf8mb4'] ) {
			$warnings[] = array(
				'code'    => 'charset',
				'message' => sprintf(
					/* translators: %s: table names with their collation. */
					__( 'Tables not in utf8mb4 are moved as they are; emoji and some scripts cannot be stored in them: %s.', 'sitelift' ),
					implode( ', ', $database['not_utf8mb4'] )
				),
			);
		}
		return $warnings;
	}

	/**
	 * The redirect rules of an .htaccess outside WordPress's own block (those are rebuilt at the destination).
	 *
	 * @return string[]
	 */
	public static function htaccess_redirects( string $file ): array {
		if ( ! is_readable( $file ) ) {
			return array();
		}
		$rules = array();
		$in_wp = false;
		foreach ( (array) file( $file, FILE_IGNORE_NEW_LINES ) as $line ) {
			$line = trim( (string) $line );
			if ( preg_match( '/^#\s*BEGIN WordPress\b/i', $line ) ) {
				$in_wp = true;
				continue;
			}
			if ( preg_match( '/^#\s*END WordPress\b/i', $line ) ) {
				$in_wp = false;
				continue;
			}
			if ( $in_wp || '' === $line || '#' === $line[0] ) {
				continue;
			}
			if ( preg_match( '/^(Redirect|RedirectMatch|RedirectPermanent|RedirectTemp)\s/i', $line )
				|| ( preg_match( '/^RewriteRule\s/i', $line ) && preg_match( '/\[[^\]]*\bR(=\d+)?\b/i', $line ) ) ) {
				$rules[] = $line;
			}
		}
		return $rules;
	}

	/**
	 * Warnings that need the destination's answer to the handshake (its free disk), given the engine state.
	 *
	 * @return array<int, array{code: string, message: string}>
	 */
	public static function destination_warnings( array $summary, array $state ): array {
		$destination = is_array( $state['destination'] ?? null ) ? $state['destination'] : array();
		$free        = self::find_number( $destination, array( 'free_disk', 'disk_free', 'free_bytes' ) );
		if ( null === $free ) {
			return array();
		}
		// The destination stages the whole site next to the live one and keeps the old one for a rollback, and
		// it stops while less than its margin for the live site is free (it says which; 64 MiB before it did).
		$margin = self::find_number( $destination, array( 'min_free_disk' ) ) ?? ( 64 << 20 );
		$needed = (int) ( ( $summary['database']['bytes'] ?? 0 ) + ( $summary['files']['bytes'] ?? 0 ) ) * 2 + $margin;
		if ( $free >= $needed ) {
			return array();
		}
		return array(
			array(
				'code'    => 'disk',
				'message' => sprintf(
					/* translators: 1: free space, 2: needed space, 3: space the destination keeps free. */
					__( 'The destination has %1$s of free disk; about %2$s are needed (the site is staged next to the live one, the old one is kept for a rollback, and %3$s stay free for the live site). Ask its host for more space or delete files there.', 'sitelift' ),
					size_format( $free, 1 ),
					size_format( $needed, 1 ),
					size_format( $margin, 0 )
				),
			),
		);
	}

	/** The first numeric value under one of $keys, at the top of $data or one level down. */
	private static function find_number( array $data, array $keys ): ?int {
		foreach ( $keys as $k ) {
			if ( isset( $data[ $k ] ) && is_numeric( $data[ $k ] ) ) {
				return (int) $data[ $k ];
			}
		}
		foreach ( $data as $value ) {
			if ( is_array( $value ) ) {
				foreach ( $keys as $k ) {
					if ( isset( $value[ $k ] ) && is_numeric( $value[ $k ] ) ) {
						return (int) $value[ $k ];
					}
				}
			}
		}
		return null;
	}
}
