<?php
/**
 * Runs a push from this site in steps: from the admin screen over REST while it is open, from WP-Cron and from
 * ordinary page visits when it is not. Nothing here makes the site call itself over HTTP (hosts often block
 * that): a page visit that finds a step due finishes its own response first and then runs the step.
 *
 * One migration at a time: starting one takes a database lock and looks at the job record; every step takes
 * a second database lock (MariaDB's GET_LOCK, released by the server when a killed PHP worker's connection
 * drops), so two tabs, two admins, WP-Cron and a page visit never run two steps at once.
 *
 * The job record (option sitelift_push_job, not autoloaded) keeps the machine token only encrypted with a key
 * derived from this site's salts, so that WP-Cron can go on after the page was closed; it is wiped when the
 * migration is done or cancelled.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Runner {
	public const JOB_OPTION = 'sitelift_push_job';
	/** Autoloaded: the time from which a page visit may run a step (0 when no push runs). Cheap to read. */
	public const DUE_OPTION = 'sitelift_push_due';
	public const CRON_HOOK  = 'sitelift_push_step';

	/** Seconds of work per step: one step must fit in a 30-second PHP request. */
	public const STEP_SECONDS = 20.0;
	/** How long transient failures (network, 5xx) are retried before the job counts as interrupted. */
	public const RETRY_WINDOW = 600;
	/** After a step driven by the open page, how long before a page visit or WP-Cron may take over. */
	public const PAGE_GRACE = 15;

	/** Fields of the engine's job state the screens may see (never anything derived from the token). */
	private const STATE_FIELDS = array(
		'job',
		'phase',
		'item',
		'done_bytes',
		'total_bytes',
		'sent_bytes',
		'parts',
		'rate',
		'eta',
		'started_at',
		'updated_at',
		'destination_url',
		'destination',
		'error',
		'retry',
		'permanent',
		'result',
		'warnings',
		'files',
		'tables',
	);

	/**
	 * Seconds of work per step, as the `sitelift_step_seconds` filter may set them for a host whose requests
	 * may run longer or must stay shorter (0.1 to 50; a step always makes or sends at least one part).
	 */
	public static function step_seconds(): float {
		/**
		 * Filters how many seconds one step of a migration may work (default 20: one step must fit in one
		 * PHP request, 30 seconds on most hosts).
		 *
		 * @param float $seconds
		 */
		$seconds = (float) apply_filters( 'sitelift_step_seconds', self::STEP_SECONDS );
		return max( 0.1, min( 50.0, $seconds ) );
	}

	/** @var bool this request already ran a step (a page visit then runs no second one) */
	private static $stepped = false;

	public static function register(): void {
		add_action( self::CRON_HOOK, array( self::class, 'run_from_cron' ) );
		add_action( 'shutdown', array( self::class, 'run_on_page_visit' ), 1000 );
	}

	// ------------------------------------------------------------------------------------------- job record

	/**
	 * The job record, read from the database itself (never from a cache that another request may have
	 * made stale), or null when no push was ever started here.
	 */
	public static function job(): ?array {
		global $wpdb;
		$raw = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::JOB_OPTION ) );
		if ( null === $raw ) {
			return null;
		}
		$job = maybe_unserialize( $raw );
		return is_array( $job ) ? $job : null;
	}

	private static function save_job( array $job ): void {
		$job['updated_at'] = time();
		wp_cache_delete( self::JOB_OPTION, 'options' );
		update_option( self::JOB_OPTION, $job, false );
		wp_cache_delete( self::JOB_OPTION, 'options' );
	}

	private static function set_due( int $when ): void {
		update_option( self::DUE_OPTION, $when, true );
	}

	// ------------------------------------------------------------------------------------------- locks

	private static function lock_name( string $what ): string {
		global $wpdb;
		return 'sitelift_' . $what . '_' . substr( md5( DB_NAME . '|' . $wpdb->base_prefix ), 0, 16 );
	}

	private static function get_lock( string $what, int $wait = 0 ): bool {
		global $wpdb;
		return '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', self::lock_name( $what ), $wait ) );
	}

	private static function release_lock( string $what ): void {
		global $wpdb;
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', self::lock_name( $what ) ) );
	}

	/** Is a step running right now (in any request)? */
	public static function step_running(): bool {
		global $wpdb;
		return '0' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT IS_FREE_LOCK(%s)', self::lock_name( 'step' ) ) );
	}

	// ------------------------------------------------------------------------------------------- token at rest

	private static function token_key(): string {
		return sodium_crypto_generichash( 'sitelift-token-at-rest|' . wp_salt( 'auth' ), '', SODIUM_CRYPTO_SECRETBOX_KEYBYTES );
	}

	private static function seal_token( string $token ): string {
		$nonce = random_bytes( SODIUM_CRYPTO_SECRETBOX_NONCEBYTES );
		return base64_encode( $nonce . sodium_crypto_secretbox( $token, $nonce, self::token_key() ) );
	}

	private static function open_token( string $sealed ): ?string {
		$raw = base64_decode( $sealed, true );
		if ( false === $raw || strlen( $raw ) <= SODIUM_CRYPTO_SECRETBOX_NONCEBYTES ) {
			return null;
		}
		$plain = sodium_crypto_secretbox_open(
			substr( $raw, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES ),
			substr( $raw, 0, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES ),
			self::token_key()
		);
		return false === $plain ? null : $plain;
	}

	/** Takes any copy of the token out of a message meant for people or the log. */
	private static function scrub( string $text, ?string $token ): string {
		if ( null !== $token && '' !== $token ) {
			$text = str_replace( $token, '[token]', $text );
		}
		return $text;
	}

	// ------------------------------------------------------------------------------------------- actions

	/**
	 * Starts a new push (forgetting any earlier one). Refused while another migration runs.
	 *
	 * @return array|\WP_Error the view of the new job
	 */
	public static function start( string $token, string $site_name, int $user_id ) {
		$refused = Engine::content_outside_error(
			/* translators: 1: folder names, 2: the WordPress folder. */
			__( 'This site keeps %1$s outside its WordPress folder (%2$s). A migration moves that folder only, so they would be left behind: nothing was started.', 'sitelift' )
		);
		if ( $refused ) {
			return $refused;
		}
		if ( ! self::get_lock( 'job', 5 ) ) {
			return new \WP_Error( 'sitelift_busy', __( 'Another migration is being started right now.', 'sitelift' ), array( 'status' => 409 ) );
		}
		try {
			$job = self::job();
			if ( $job && 'running' === ( $job['status'] ?? '' ) ) {
				return new \WP_Error( 'sitelift_busy', self::busy_message( $job ), array( 'status' => 409 ) );
			}
			$now = time();
			$job = array(
				'status'        => 'running',
				'site_name'     => $site_name,
				'token'         => self::seal_token( $token ),
				'restart'       => true,
				'started_by'    => $user_id,
				'started_at'    => $now,
				'last_step_at'  => 0,
				'failing_since' => 0,
				'error'         => '',
				'mailed_start'  => false,
				'mailed_end'    => false,
				'final'         => array(),
			);
			self::save_job( $job );
			self::set_due( $now + self::PAGE_GRACE );
			self::schedule( self::PAGE_GRACE );
			/**
			 * Fires when an admin starts a migration from this site.
			 *
			 * @param string $site_name the destination's site name.
			 * @param int    $user_id   who started it.
			 */
			do_action( 'sitelift_push_started', $site_name, $user_id );
		} finally {
			self::release_lock( 'job' );
		}
		return self::view();
	}

	/**
	 * Lets an interrupted or failed push go on from where it stopped. A new token may be given (the stored one
	 * is kept otherwise).
	 *
	 * @return array|\WP_Error
	 */
	public static function resume( string $token = '' ) {
		if ( ! self::get_lock( 'job', 5 ) ) {
			return new \WP_Error( 'sitelift_busy', __( 'Another migration is being started right now.', 'sitelift' ), array( 'status' => 409 ) );
		}
		try {
			$job = self::job();
			if ( ! $job || ! in_array( $job['status'] ?? '', array( 'failed', 'interrupted' ), true ) ) {
				return new \WP_Error( 'sitelift_nothing_to_resume', __( 'There is no interrupted migration to resume.', 'sitelift' ), array( 'status' => 409 ) );
			}
			if ( '' !== $token ) {
				$job['token'] = self::seal_token( $token );
			} elseif ( null === self::open_token( (string) ( $job['token'] ?? '' ) ) ) {
				return new \WP_Error( 'sitelift_token_needed', __( 'Enter the machine token again to resume.', 'sitelift' ), array( 'status' => 400 ) );
			}
			$job['status']        = 'running';
			$job['failing_since'] = 0;
			$job['error']         = '';
			$job['mailed_end']    = false;
			self::save_job( $job );
			self::set_due( time() + self::PAGE_GRACE );
			self::schedule( self::PAGE_GRACE );
		} finally {
			self::release_lock( 'job' );
		}
		return self::view();
	}

	/**
	 * Stops the push and forgets its progress (the destination keeps its own site).
	 *
	 * @return array|\WP_Error
	 */
	public static function cancel() {
		$job = self::job();
		if ( $job && 'running' === ( $job['status'] ?? '' ) ) {
			// Stop further steps first, then wait for one that may be running.
			$job['status'] = 'cancelling';
			self::save_job( $job );
		}
		if ( ! self::get_lock( 'step', 25 ) ) {
			return new \WP_Error( 'sitelift_busy', __( 'A step of the migration is still running; try again in a moment.', 'sitelift' ), array( 'status' => 409 ) );
		}
		try {
			Engine::push_cancel();
			$job = self::job();
			if ( $job ) {
				$job['status'] = 'cancelled';
				$job['token']  = '';
				$job['error']  = '';
				self::save_job( $job );
			}
			self::set_due( 0 );
			wp_clear_scheduled_hook( self::CRON_HOOK );
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_engine', $e->getMessage(), array( 'status' => 500 ) );
		} finally {
			self::release_lock( 'step' );
		}
		return self::view();
	}

	/**
	 * Runs one step of the running push, unless another request runs one right now (then the view says busy).
	 *
	 * @param string $origin page, cron or visit: who drives the step.
	 * @return array|\WP_Error the view after the step
	 */
	public static function step( float $seconds, string $origin ) {
		$job = self::job();
		if ( ! $job || 'running' !== ( $job['status'] ?? '' ) ) {
			return new \WP_Error( 'sitelift_not_running', __( 'No migration is running.', 'sitelift' ), array( 'status' => 409 ) );
		}
		if ( ! self::get_lock( 'step', 0 ) ) {
			$view         = self::view();
			$view['busy'] = true;
			return $view;
		}
		self::$stepped = true;
		try {
			$job = self::job(); // again, under the lock
			if ( ! $job || 'running' !== ( $job['status'] ?? '' ) ) {
				return self::view();
			}
			self::advance( $job, $seconds, $origin );
		} finally {
			self::release_lock( 'step' );
		}
		return self::view();
	}

	/** One engine step for $job, then the job record, emails and the next step's schedule follow its result. */
	private static function advance( array $job, float $seconds, string $origin ): void {
		$now   = time();
		$token = self::open_token( (string) ( $job['token'] ?? '' ) );
		if ( null === $token ) {
			$job['status'] = 'interrupted';
			$job['error']  = __( 'The stored machine token cannot be read any more (were the site\'s salts changed?). Enter it again and resume.', 'sitelift' );
			self::save_job( $job );
			self::set_due( 0 );
			return;
		}
		$options = Engine::push_options( $token, (string) $job['site_name'], ! empty( $job['restart'] ) );
		try {
			$state = Engine::push_step( $options, $seconds );
		} catch ( \Throwable $e ) {
			$permanent = ! ( $e instanceof \SiteLift\IoException || $e instanceof \SiteLift\DatabaseException );
			$state     = array(
				'phase'     => 'failed',
				'error'     => $e->getMessage(),
				'permanent' => $permanent,
			);
		}
		unset( $options );
		$job['restart']      = false;
		$job['last_step_at'] = $now;
		$job['last_origin']  = $origin;
		$phase               = (string) ( $state['phase'] ?? '' );
		$error               = self::scrub( (string) ( $state['error'] ?? '' ), $token );
		// A transient failure (network, 5xx, the destination busy): the engine says what it will retry.
		$retry = self::scrub( (string) ( $state['retry'] ?? '' ), $token );

		if ( 'done' === $phase ) {
			$job['status']        = 'done';
			$job['token']         = '';
			$job['error']         = '';
			$job['failing_since'] = 0;
			$job['final']         = self::public_state( $state, $token );
		} elseif ( 'cancelled' === $phase ) {
			$job['status'] = 'cancelled';
			$job['token']  = '';
		} elseif ( 'failed' === $phase && ! empty( $state['permanent'] ) ) {
			$job['status'] = 'failed';
			$job['error']  = $error;
			$job['final']  = self::public_state( $state, $token );
		} elseif ( 'failed' === $phase || '' !== $retry ) {
			$job['failing_since'] = $job['failing_since'] ? $job['failing_since'] : $now;
			$job['error']         = '' !== $retry ? $retry : $error;
			if ( $now - $job['failing_since'] >= self::RETRY_WINDOW ) {
				$job['status'] = 'interrupted';
				$job['final']  = self::public_state( $state, $token );
			}
		} else {
			$job['failing_since'] = 0;
			$job['error']         = '';
		}

		if ( 'running' === $job['status'] && ! $job['mailed_start'] && 'failed' !== $phase && '' === $retry ) {
			$job['mailed_start'] = Mailer::started( $job, $state );
		}
		if ( in_array( $job['status'], array( 'done', 'failed', 'interrupted' ), true ) && ! $job['mailed_end'] ) {
			$job['mailed_end'] = Mailer::finished( $job, $state );
		}
		self::save_job( $job );

		if ( 'running' === $job['status'] ) {
			// Transient failures back off (5, 10, 20 ... 60 s); otherwise the open page goes on at once, and a
			// closed page is taken over by WP-Cron or the next page visit.
			$delay = 'page' === $origin ? self::PAGE_GRACE : 0;
			if ( $job['failing_since'] ) {
				$delay = max( $delay, min( 60, 5 * ( 2 ** min( 4, intdiv( $now - $job['failing_since'], 30 ) ) ) ) );
			}
			self::set_due( $now + $delay );
			self::schedule( $delay );
		} else {
			self::set_due( 0 );
			wp_clear_scheduled_hook( self::CRON_HOOK );
			if ( 'done' === $job['status'] ) {
				/**
				 * Fires on the source when a migration from it completed.
				 *
				 * @param array $state the final job state (without its log).
				 */
				do_action( 'sitelift_push_done', $job['final'] );
			}
		}
	}

	/** Makes sure one WP-Cron event will run the next step. */
	private static function schedule( int $delay ): void {
		if ( false === wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_single_event( time() + max( 0, $delay ), self::CRON_HOOK );
		}
	}

	// ------------------------------------------------------------------------------------------- drivers

	/** WP-Cron: one step (a cron request has the same 30 seconds as any other). */
	public static function run_from_cron(): void {
		$job = self::job();
		if ( ! $job || 'running' !== ( $job['status'] ?? '' ) ) {
			return;
		}
		$result = self::step( self::step_seconds(), 'cron' );
		if ( is_array( $result ) && ! empty( $result['busy'] ) ) {
			self::schedule( self::PAGE_GRACE ); // somebody else is stepping; look again later
		}
	}

	/**
	 * At the end of any page visit: when a step is due and none runs, send the visitor their page first, then
	 * run the step in the same PHP worker. Only under servers that can finish a response early (PHP-FPM,
	 * LiteSpeed): elsewhere the visitor would wait, and WP-Cron is left to do it.
	 */
	public static function run_on_page_visit(): void {
		if ( self::$stepped || wp_doing_cron() || ( defined( 'WP_INSTALLING' ) && WP_INSTALLING ) || 'cli' === PHP_SAPI ) {
			return;
		}
		$due = (int) get_option( self::DUE_OPTION, 0 );
		if ( $due <= 0 || $due > time() ) {
			return;
		}
		if ( ! function_exists( 'fastcgi_finish_request' ) && ! function_exists( 'litespeed_finish_request' ) ) {
			return;
		}
		if ( self::step_running() ) {
			return;
		}
		$elapsed = isset( $_SERVER['REQUEST_TIME_FLOAT'] ) ? microtime( true ) - (float) $_SERVER['REQUEST_TIME_FLOAT'] : 0.0;
		$budget  = min( self::step_seconds(), 25.0 - $elapsed );
		if ( $budget < 1.0 ) {
			return;
		}
		ignore_user_abort( true );
		if ( function_exists( 'fastcgi_finish_request' ) ) {
			fastcgi_finish_request();
		} else {
			litespeed_finish_request();
		}
		self::step( $budget, 'visit' );
	}

	// ------------------------------------------------------------------------------------------- views

	/** The engine's state reduced to what the screens may show, the token scrubbed from every message. */
	private static function public_state( array $state, ?string $token = null ): array {
		$out = array();
		foreach ( self::STATE_FIELDS as $field ) {
			if ( array_key_exists( $field, $state ) ) {
				$out[ $field ] = $state[ $field ];
			}
		}
		foreach ( array( 'error', 'retry' ) as $field ) {
			if ( isset( $out[ $field ] ) ) {
				$out[ $field ] = self::scrub( (string) $out[ $field ], $token );
			}
		}
		return $out;
	}

	private static function engine_state(): array {
		try {
			return Engine::push_status();
		} catch ( \SiteLift\Exception $e ) {
			return array( 'error' => $e->getMessage() );
		}
	}

	/**
	 * What the source screen shows: the job record (no token) and the engine's state.
	 */
	public static function view(): array {
		$job    = self::job();
		$status = $job ? (string) ( $job['status'] ?? '' ) : '';
		// A cancelled push, or one the screens did not start (the CLI's), is not shown as this screen's job.
		// Nor is the state of an earlier push before the first step of this one replaced it.
		$fresh = $job && ! empty( $job['restart'] );
		$state = ( $fresh || in_array( $status, array( '', 'cancelled' ), true ) ) ? array() : self::engine_state();
		if ( ! $state && $job && ! empty( $job['final'] ) ) {
			$state = $job['final'];
		}
		$user   = $job ? get_userdata( (int) ( $job['started_by'] ?? 0 ) ) : false;
		return array(
			'status'     => '' === $status ? 'none' : $status,
			'site_name'  => $job ? (string) ( $job['site_name'] ?? '' ) : '',
			'started_at' => $job ? (int) ( $job['started_at'] ?? 0 ) : 0,
			'started_by' => $user ? $user->display_name : '',
			'error'      => $job ? (string) ( $job['error'] ?? '' ) : '',
			'retrying'   => $job && 'running' === $status && ! empty( $job['failing_since'] ),
			'has_token'  => $job && '' !== (string) ( $job['token'] ?? '' ),
			'busy'       => self::step_running(),
			'state'      => self::public_state( $state ),
			'login'      => self::login_hint(),
		);
	}

	/** Which account logs in at the destination after the swap: this site's own users, e.g. the viewer. */
	private static function login_hint(): string {
		$user = wp_get_current_user();
		return $user && $user->exists() ? $user->user_login : '';
	}

	/** The engine's log of the push (last lines), without the token. */
	public static function log_text(): string {
		$state = self::engine_state();
		$log   = $state['log'] ?? '';
		if ( is_array( $log ) ) {
			$log = implode( "\n", array_map( 'strval', $log ) );
		}
		$job   = self::job();
		$token = $job ? self::open_token( (string) ( $job['token'] ?? '' ) ) : null;
		return self::scrub( (string) $log, $token );
	}

	private static function busy_message( array $job ): string {
		$user = get_userdata( (int) ( $job['started_by'] ?? 0 ) );
		return sprintf(
			/* translators: 1: user name, 2: date and time. */
			__( 'A migration is already running (started by %1$s on %2$s). Wait for it to finish or cancel it.', 'sitelift' ),
			$user ? $user->display_name : __( 'another user', 'sitelift' ),
			wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), (int) ( $job['started_at'] ?? 0 ) )
		);
	}

	/** Forgets the job record (uninstall, tests). */
	public static function forget(): void {
		delete_option( self::JOB_OPTION );
		delete_option( self::DUE_OPTION );
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}
}
