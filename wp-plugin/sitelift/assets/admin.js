/**
 * SiteLift admin screens: fills in the page rendered by includes/class-admin.php and drives it through the
 * sitelift/v1/admin/* REST routes (wp.apiFetch sends the REST nonce). Every value from the server is put into
 * the page as text, never as HTML.
 */
( function () {
	'use strict';

	var cfg = window.siteliftAdmin;
	if ( ! cfg || ! window.wp || ! wp.apiFetch || ! wp.i18n ) {
		return;
	}
	var __ = wp.i18n.__;
	var _n = wp.i18n._n;
	var sprintf = wp.i18n.sprintf;

	// ------------------------------------------------------------------------------------------- helpers

	function $( id ) {
		return document.getElementById( id );
	}

	function api( path, method, data ) {
		var req = { path: '/' + cfg.namespace + path, method: method || 'GET' };
		if ( data ) {
			req.data = data;
		}
		return wp.apiFetch( req );
	}

	function sleep( ms ) {
		return new Promise( function ( resolve ) {
			setTimeout( resolve, ms );
		} );
	}

	/** Builds an element; children are nodes or strings (as text). */
	function el( tag, attrs, children ) {
		var node = document.createElement( tag );
		Object.keys( attrs || {} ).forEach( function ( k ) {
			if ( k === 'text' ) {
				node.textContent = attrs[ k ];
			} else if ( k === 'className' ) {
				node.className = attrs[ k ];
			} else {
				node.setAttribute( k, attrs[ k ] );
			}
		} );
		( children || [] ).forEach( function ( c ) {
			if ( c === null || c === undefined ) {
				return;
			}
			node.appendChild( typeof c === 'string' ? document.createTextNode( c ) : c );
		} );
		return node;
	}

	function replace( container, nodes ) {
		while ( container.firstChild ) {
			container.removeChild( container.firstChild );
		}
		( Array.isArray( nodes ) ? nodes : [ nodes ] ).forEach( function ( n ) {
			if ( n ) {
				container.appendChild( n );
			}
		} );
	}

	function bytes( n ) {
		n = Number( n ) || 0;
		var units = [ 'B', 'KB', 'MB', 'GB', 'TB' ];
		var i = 0;
		while ( n >= 1024 && i < units.length - 1 ) {
			n /= 1024;
			i++;
		}
		return ( i === 0 ? String( n ) : n.toFixed( n < 10 ? 1 : 0 ) ) + ' ' + units[ i ];
	}

	function duration( s ) {
		s = Math.max( 0, Math.round( Number( s ) || 0 ) );
		if ( s < 60 ) {
			/* translators: %d: seconds. */
			return sprintf( __( '%d s', 'sitelift' ), s );
		}
		if ( s < 3600 ) {
			/* translators: 1: minutes, 2: seconds. */
			return sprintf( __( '%1$d min %2$d s', 'sitelift' ), Math.floor( s / 60 ), s % 60 );
		}
		/* translators: 1: hours, 2: minutes. */
		return sprintf( __( '%1$d h %2$d min', 'sitelift' ), Math.floor( s / 3600 ), Math.floor( ( s % 3600 ) / 60 ) );
	}

	function when( ts ) {
		ts = Number( ts ) || 0;
		return ts ? new Date( ts * 1000 ).toLocaleString() : '–';
	}

	function notice( message, type ) {
		var box = document.querySelector( '.sitelift-notices' );
		var n = el( 'div', { className: 'notice is-dismissible notice-' + ( type || 'error' ) }, [ el( 'p', { text: message } ) ] );
		replace( box, n );
		n.scrollIntoView( { block: 'nearest' } );
	}

	function clearNotice() {
		replace( document.querySelector( '.sitelift-notices' ), [] );
	}

	function errorText( err ) {
		if ( err && err.message ) {
			return err.message;
		}
		return __( 'The request failed. Check your connection and try again.', 'sitelift' );
	}

	/** A value at one of several keys, at the top of obj or one level down. */
	function pick( obj, keys ) {
		if ( ! obj || typeof obj !== 'object' ) {
			return undefined;
		}
		var i, k;
		for ( i = 0; i < keys.length; i++ ) {
			if ( obj[ keys[ i ] ] !== undefined && obj[ keys[ i ] ] !== null && typeof obj[ keys[ i ] ] !== 'object' ) {
				return obj[ keys[ i ] ];
			}
		}
		for ( k in obj ) {
			if ( obj[ k ] && typeof obj[ k ] === 'object' && ! Array.isArray( obj[ k ] ) ) {
				for ( i = 0; i < keys.length; i++ ) {
					if ( obj[ k ][ keys[ i ] ] !== undefined && typeof obj[ k ][ keys[ i ] ] !== 'object' ) {
						return obj[ k ][ keys[ i ] ];
					}
				}
			}
		}
		return undefined;
	}

	/** Labels for the keys of the engine's import report; other keys are shown as they are named. */
	var REPORT_LABELS = {
		source_url: __( 'From', 'sitelift' ),
		destination_url: __( 'To', 'sitelift' ),
		tables: __( 'Tables verified', 'sitelift' ),
		rows: __( 'Rows verified', 'sitelift' ),
		files: __( 'Files verified', 'sitelift' ),
		file_bytes: __( 'File data verified', 'sitelift' ),
		dirs: __( 'Folders', 'sitelift' ),
		symlinks: __( 'Symbolic links', 'sitelift' ),
		values_changed: __( 'Values moved to the new address', 'sitelift' ),
		values_skipped_unsafe: __( 'Values left as they were (not safe to change)', 'sitelift' ),
		seconds: __( 'Verify and switch-over time', 'sitelift' ),
		warnings: __( 'Warnings', 'sitelift' ),
		finished_at: __( 'Switched over', 'sitelift' ),
		tables_replaced: __( 'Tables replaced', 'sitelift' ),
		entries: __( 'Top-level files and folders replaced', 'sitelift' ),
		backup: __( 'Previous site kept for a rollback', 'sitelift' ),
	};

	/** A definition list of the scalar values of a report (one level of nesting flattened). */
	function reportList( report ) {
		var dl = el( 'dl', { className: 'sitelift-kv' } );
		function add( key, value ) {
			if ( value === null || value === undefined || typeof value === 'object' ) {
				return;
			}
			var text = typeof value === 'boolean' ? ( value ? __( 'yes', 'sitelift' ) : __( 'no', 'sitelift' ) ) : String( value );
			if ( /bytes$/.test( key ) && typeof value === 'number' ) {
				text = bytes( value );
			} else if ( /_at$/.test( key ) && typeof value === 'number' ) {
				text = when( value );
			} else if ( key === 'seconds' && typeof value === 'number' ) {
				text = value < 10 ? value.toFixed( 1 ) + ' s' : duration( value );
			} else if ( typeof value === 'number' ) {
				text = value.toLocaleString();
			}
			dl.appendChild( el( 'dt', { text: REPORT_LABELS[ key ] || key.replace( /_/g, ' ' ) } ) );
			dl.appendChild( el( 'dd', { text: text } ) );
		}
		Object.keys( report || {} ).forEach( function ( k ) {
			var v = report[ k ];
			if ( v && typeof v === 'object' && ! Array.isArray( v ) ) {
				Object.keys( v ).forEach( function ( k2 ) {
					add( k + ' ' + k2, v[ k2 ] );
				} );
			} else if ( Array.isArray( v ) ) {
				add( k, v.length ? v.map( function ( x ) { return typeof x === 'object' ? JSON.stringify( x ) : String( x ); } ).join( '; ' ) : __( 'none', 'sitelift' ) );
			} else {
				add( k, v );
			}
		} );
		return dl;
	}

	function barChart( rows, total ) {
		var max = rows.reduce( function ( m, r ) {
			return Math.max( m, r.bytes );
		}, 1 );
		return el(
			'ul',
			{ className: 'sitelift-chart' },
			rows.map( function ( r ) {
				var pct = Math.max( 1, Math.round( ( r.bytes / max ) * 100 ) );
				var share = total ? Math.round( ( r.bytes / total ) * 100 ) : 0;
				var bar = el( 'span', { className: 'sitelift-chart-bar' } );
				bar.style.width = pct + '%';
				return el( 'li', {}, [
					el( 'span', { className: 'sitelift-chart-name code', text: r.name } ),
					el( 'span', { className: 'sitelift-chart-track' }, [ bar ] ),
					el( 'span', { className: 'sitelift-chart-value', text: bytes( r.bytes ) + ( total ? ' · ' + share + '%' : '' ) } ),
				] );
			} )
		);
	}

	// ------------------------------------------------------------------------------------------- source

	var PHASES = {
		listing: __( 'Listing files', 'sitelift' ),
		handshake: __( 'Connecting to the destination', 'sitelift' ),
		database: __( 'Database', 'sitelift' ),
		files: __( 'Files', 'sitelift' ),
		restore: __( 'Restore at the destination', 'sitelift' ),
		finalize: __( 'Restore and finalize at the destination', 'sitelift' ),
		done: __( 'Done', 'sitelift' ),
		failed: __( 'Stopped', 'sitelift' ),
		cancelled: __( 'Cancelled', 'sitelift' ),
	};

	function initMigrate() {
		var preflight = cfg.preflight;
		var view = cfg.migrate || { status: 'none', state: {} };
		var driving = false;
		var stopRequested = false;

		function renderPreflight() {
			var body = $( 'sitelift-preflight-body' );
			if ( ! preflight ) {
				replace( body, el( 'p', { className: 'sitelift-muted', text: __( 'Measuring this site…', 'sitelift' ) } ) );
				return;
			}
			var db = preflight.database;
			var files = preflight.files;
			var c = preflight.counts;
			var totals = el( 'ul', { className: 'sitelift-totals' }, [
				el( 'li', {}, [ el( 'strong', { text: bytes( db.bytes ) } ), ' ', __( 'database', 'sitelift' ), ' ',
					el( 'span', { className: 'sitelift-muted', text: sprintf( _n( '(%d table)', '(%d tables)', db.table_count, 'sitelift' ), db.table_count ) } ) ] ),
				el( 'li', {}, [ el( 'strong', { text: bytes( files.bytes ) } ), ' ', __( 'files', 'sitelift' ), ' ',
					el( 'span', { className: 'sitelift-muted', text: sprintf( _n( '(%d file)', '(%d files)', files.count, 'sitelift' ), files.count ) + ( files.partial ? ' ' + __( '(partial: the site is large)', 'sitelift' ) : '' ) } ) ] ),
			] );
			var counts = el( 'ul', { className: 'sitelift-counts' }, [
				[ c.posts, _n( 'post', 'posts', c.posts, 'sitelift' ) ],
				[ c.pages, _n( 'page', 'pages', c.pages, 'sitelift' ) ],
				[ c.media, _n( 'media item', 'media items', c.media, 'sitelift' ) ],
				[ c.comments, _n( 'comment', 'comments', c.comments, 'sitelift' ) ],
				[ c.users, _n( 'user', 'users', c.users, 'sitelift' ) ],
				[ c.plugins, _n( 'plugin', 'plugins', c.plugins, 'sitelift' ) ],
				[ c.themes, _n( 'theme', 'themes', c.themes, 'sitelift' ) ],
			].map( function ( p ) {
				return el( 'li', {}, [ el( 'strong', { text: String( p[ 0 ] ) } ), ' ' + p[ 1 ] ] );
			} ) );

			var dest = ( view.state && view.state.destination ) || null;
			var v = preflight.versions;
			function destValue( keys ) {
				var val = dest ? pick( dest, keys ) : undefined;
				return val === undefined ? __( 'after connecting', 'sitelift' ) : String( val );
			}
			var versions = el( 'table', { className: 'widefat striped sitelift-versions' }, [
				el( 'thead', {}, [ el( 'tr', {}, [ el( 'th', { text: '' } ), el( 'th', { text: __( 'This site', 'sitelift' ) } ), el( 'th', { text: __( 'Destination', 'sitelift' ) } ) ] ) ] ),
				el( 'tbody', {}, [
					el( 'tr', {}, [ el( 'th', { text: 'PHP' } ), el( 'td', { text: v.php } ), el( 'td', { text: destValue( [ 'php', 'php_version' ] ) } ) ] ),
					el( 'tr', {}, [ el( 'th', { text: 'WordPress' } ), el( 'td', { text: v.wordpress } ), el( 'td', { text: destValue( [ 'wordpress', 'wp_version', 'wp' ] ) } ) ] ),
					el( 'tr', {}, [ el( 'th', { text: __( 'Database', 'sitelift' ) } ), el( 'td', { text: v.database } ), el( 'td', { text: destValue( [ 'db_server', 'database', 'db_version' ] ) } ) ] ),
				] ),
			] );

			var warnings = ( preflight.warnings || [] ).concat( view.destination_warnings || [] );
			var warnList = warnings.length
				? el( 'ul', { className: 'sitelift-warnings' }, warnings.map( function ( w ) {
					return el( 'li', { 'data-code': w.code }, [ w.message ].concat( w.details ? [ el( 'code', { className: 'sitelift-details', text: w.details.join( '\n' ) } ) ] : [] ) );
				} ) )
				: el( 'p', { className: 'sitelift-ok', text: __( 'No warnings.', 'sitelift' ) } );

			replace( body, [
				totals,
				counts,
				el( 'div', { className: 'sitelift-charts' }, [
					el( 'div', {}, [ el( 'h3', { text: __( 'Largest tables', 'sitelift' ) } ), barChart( db.largest, db.bytes ) ] ),
					el( 'div', {}, [ el( 'h3', { text: __( 'Largest folders', 'sitelift' ) } ), barChart( files.largest, files.bytes ) ] ),
				] ),
				el( 'h3', { text: __( 'Versions', 'sitelift' ) } ),
				versions,
				el( 'h3', { text: __( 'Warnings', 'sitelift' ) } ),
				warnList,
			] );
		}

		function loadPreflight( fresh ) {
			if ( fresh ) {
				preflight = null;
				renderPreflight();
			}
			return api( '/admin/migrate/preflight' + ( fresh ? '?fresh=1' : '' ) ).then( function ( p ) {
				preflight = p;
				renderPreflight();
			}, function ( err ) {
				replace( $( 'sitelift-preflight-body' ), el( 'p', { className: 'sitelift-error', text: errorText( err ) } ) );
			} );
		}

		function render() {
			var st = view.state || {};
			var status = view.status;
			var showProgress = status !== 'none' && status !== 'cancelled';
			$( 'sitelift-progress' ).hidden = ! showProgress;
			$( 'sitelift-start-card' ).hidden = status === 'running' || status === 'cancelling' || status === 'done';
			$( 'sitelift-migrate' ).disabled = status === 'running';
			if ( ! showProgress ) {
				return;
			}
			var phase = status === 'done' ? 'done' : st.phase || 'handshake';
			if ( status === 'interrupted' || status === 'failed' ) {
				phase = 'failed';
			}
			$( 'sitelift-phase' ).textContent = '— ' + ( PHASES[ phase ] || phase );
			var done = Number( st.done_bytes ) || 0;
			var total = Number( st.total_bytes ) || 0;
			var pct = status === 'done' ? 100 : total > 0 ? Math.min( 99, Math.floor( ( done / total ) * 100 ) ) : 0;
			$( 'sitelift-bar-fill' ).style.width = pct + '%';
			$( 'sitelift-bar' ).setAttribute( 'aria-valuenow', String( pct ) );
			$( 'sitelift-bar' ).className = 'sitelift-progressbar is-' + ( status === 'running' ? 'running' : status );
			$( 'sitelift-percent' ).textContent = pct + '%';
			/* translators: 1: bytes done, 2: bytes in all. */
			$( 'sitelift-bytes' ).textContent = total ? sprintf( __( '%1$s of %2$s', 'sitelift' ), bytes( status === 'done' ? total : done ), bytes( total ) ) : '–';
			$( 'sitelift-rate' ).textContent = st.rate ? bytes( st.rate ) + '/s' : '–';
			$( 'sitelift-eta' ).textContent = status === 'running' && st.eta ? duration( st.eta ) : '–';
			$( 'sitelift-item' ).textContent = status === 'running' && st.item ? String( st.item ) : '–';
			$( 'sitelift-progress-note' ).hidden = status !== 'running';

			var err = $( 'sitelift-progress-error' );
			if ( view.error && ( status === 'failed' || status === 'interrupted' ) ) {
				replace( err, el( 'div', { className: 'notice notice-error inline' }, [ el( 'p', { text: view.error } ) ] ) );
			} else if ( view.retrying && view.error ) {
				/* translators: %s: error message. */
				replace( err, el( 'div', { className: 'notice notice-warning inline' }, [ el( 'p', { text: sprintf( __( 'Retrying: %s', 'sitelift' ), view.error ) } ) ] ) );
			} else {
				replace( err, [] );
			}
			$( 'sitelift-cancel' ).hidden = ! ( status === 'running' || status === 'failed' || status === 'interrupted' );
			$( 'sitelift-resume' ).hidden = ! ( status === 'failed' || status === 'interrupted' );
			$( 'sitelift-new' ).hidden = status !== 'done';
			if ( ( status === 'failed' || status === 'interrupted' ) && ! $( 'sitelift-dest-name' ).value ) {
				$( 'sitelift-dest-name' ).value = view.site_name || '';
			}
			renderReport();
		}

		function renderReport() {
			var box = $( 'sitelift-report' );
			if ( view.status !== 'done' ) {
				box.hidden = true;
				return;
			}
			var st = view.state || {};
			var url = st.destination_url || '';
			var parts = [ el( 'h3', { text: __( 'The site now runs at the destination', 'sitelift' ) } ) ];
			if ( url ) {
				parts.push( el( 'p', {}, [ el( 'a', { href: url, target: '_blank', rel: 'noopener', className: 'button button-primary', id: 'sitelift-dest-link', text: sprintf( __( 'Open %s', 'sitelift' ), url ) } ) ] ) );
			}
			parts.push( el( 'div', { className: 'notice notice-info inline sitelift-login-note' }, [
				el( 'p', {}, [
					el( 'strong', { text: __( 'Logging in at the destination:', 'sitelift' ) } ),
					' ',
					view.login
						/* translators: %s: user name. */
						? sprintf( __( 'the destination now has this site\'s users. Log in there as %s with the password you use here (every user of this site keeps their password). The destination\'s former accounts no longer work.', 'sitelift' ), view.login )
						: __( 'the destination now has this site\'s users. Log in there with the usernames and passwords of this site. The destination\'s former accounts no longer work.', 'sitelift' ),
				] ),
			] ) );
			parts.push( el( 'h4', { text: __( 'Verification', 'sitelift' ) } ) );
			parts.push( st.result && Object.keys( st.result ).length ? reportList( st.result ) : el( 'p', { text: __( 'Every table and file was checked against the manifest.', 'sitelift' ) } ) );
			replace( box, parts );
			box.hidden = false;
		}

		async function drive() {
			if ( driving ) {
				return;
			}
			driving = true;
			stopRequested = false;
			var failures = 0;
			while ( ! stopRequested && view.status === 'running' ) {
				try {
					var next = await api( '/admin/migrate/step', 'POST' );
					failures = 0;
					view = next;
					render();
					if ( next.busy ) {
						await sleep( 2000 );
					}
				} catch ( err ) {
					if ( err && err.code === 'sitelift_not_running' ) {
						view = await api( '/admin/migrate' );
						render();
						break;
					}
					failures++;
					/* translators: %s: error message. */
					notice( sprintf( __( 'Lost contact with this site (%s); trying again.', 'sitelift' ), errorText( err ) ), 'warning' );
					await sleep( Math.min( 30000, 2000 * failures ) );
					continue;
				}
				if ( failures === 0 ) {
					clearNotice();
				}
				if ( view.retrying ) {
					await sleep( 5000 );
				}
			}
			driving = false;
			if ( preflight ) {
				renderPreflight(); // the destination's versions and warnings are known now
			}
			if ( view.status === 'done' ) {
				notice( __( 'The migration completed.', 'sitelift' ), 'success' );
			}
		}

		$( 'sitelift-preflight-refresh' ).addEventListener( 'click', function () {
			loadPreflight( true );
		} );

		$( 'sitelift-start-form' ).addEventListener( 'submit', function ( e ) {
			e.preventDefault();
			var tokenField = $( 'sitelift-token' );
			var token = tokenField.value.replace( /\s+/g, '' );
			var name = $( 'sitelift-dest-name' ).value.trim();
			if ( ! token || ! name ) {
				notice( __( 'Paste the machine token and enter the destination\'s site name.', 'sitelift' ) );
				return;
			}
			// After a failure: with the stored token gone, the pasted one lets the same migration go on;
			// otherwise Migrate starts over (Resume goes on with the stored token).
			var resuming = ( view.status === 'failed' || view.status === 'interrupted' ) && ! view.has_token && name === view.site_name;
			$( 'sitelift-migrate' ).disabled = true;
			clearNotice();
			var req = resuming
				? api( '/admin/migrate/resume', 'POST', { token: token } )
				: api( '/admin/migrate/start', 'POST', { token: token, site_name: name } );
			req.then( function ( next ) {
				tokenField.value = '';
				view = next;
				render();
				drive();
			}, function ( err ) {
				$( 'sitelift-migrate' ).disabled = false;
				notice( errorText( err ) );
			} );
		} );

		$( 'sitelift-cancel' ).addEventListener( 'click', function () {
			// eslint-disable-next-line no-alert
			if ( ! window.confirm( __( 'Cancel the migration? Its progress is forgotten; the destination keeps its own site.', 'sitelift' ) ) ) {
				return;
			}
			stopRequested = true;
			$( 'sitelift-cancel' ).disabled = true;
			api( '/admin/migrate/cancel', 'POST' ).then( function ( next ) {
				view = next;
				render();
				notice( __( 'The migration was cancelled.', 'sitelift' ), 'info' );
			}, function ( err ) {
				notice( errorText( err ) );
			} ).then( function () {
				$( 'sitelift-cancel' ).disabled = false;
			} );
		} );

		$( 'sitelift-resume' ).addEventListener( 'click', function () {
			if ( ! view.has_token ) {
				$( 'sitelift-start-card' ).hidden = false;
				$( 'sitelift-token' ).focus();
				notice( __( 'Paste the machine token again and press Migrate to resume.', 'sitelift' ), 'warning' );
				return;
			}
			api( '/admin/migrate/resume', 'POST', {} ).then( function ( next ) {
				view = next;
				clearNotice();
				render();
				drive();
			}, function ( err ) {
				notice( errorText( err ) );
			} );
		} );

		$( 'sitelift-log' ).addEventListener( 'click', function () {
			api( '/admin/migrate/log' ).then( function ( res ) {
				var blob = new Blob( [ res.log || '' ], { type: 'text/plain' } );
				var a = el( 'a', { href: URL.createObjectURL( blob ), download: 'sitelift-migration-log.txt' } );
				document.body.appendChild( a );
				a.click();
				setTimeout( function () {
					URL.revokeObjectURL( a.href );
					a.remove();
				}, 1000 );
			}, function ( err ) {
				notice( errorText( err ) );
			} );
		} );

		$( 'sitelift-new' ).addEventListener( 'click', function () {
			view = { status: 'none', state: {} };
			render();
		} );

		renderPreflight();
		if ( ! preflight ) {
			loadPreflight( false );
		}
		render();
		if ( view.status === 'running' ) {
			drive();
		}
	}

	// ------------------------------------------------------------------------------------------- destination

	function initReceive() {
		var view = cfg.receive || {};
		var sawFinalize = false;
		var lost = false;

		function tokenStatus( t ) {
			if ( t.revoked ) {
				return __( 'revoked', 'sitelift' );
			}
			if ( t.expired ) {
				return __( 'expired', 'sitelift' );
			}
			return __( 'active', 'sitelift' );
		}

		function render() {
			var t = view.token;
			var info = $( 'sitelift-token-info' );
			if ( t ) {
				replace( info, el( 'dl', { className: 'sitelift-kv' }, [
					el( 'dt', { text: __( 'Status', 'sitelift' ) } ), el( 'dd', { id: 'sitelift-token-status', text: tokenStatus( t ) } ),
					el( 'dt', { text: __( 'Site name', 'sitelift' ) } ), el( 'dd', { className: 'code', text: t.site_name || '' } ),
					el( 'dt', { text: __( 'Fingerprint', 'sitelift' ) } ), el( 'dd', { className: 'code', text: t.fingerprint || '' } ),
					el( 'dt', { text: __( 'Created', 'sitelift' ) } ), el( 'dd', { text: when( t.created_at ) } ),
					el( 'dt', { text: __( 'Expires', 'sitelift' ) } ), el( 'dd', { id: 'sitelift-token-expires', text: when( t.expires_at ) } ),
				] ) );
			} else {
				replace( info, el( 'p', { className: 'sitelift-muted', text: __( 'No machine token yet.', 'sitelift' ) } ) );
			}
			$( 'sitelift-revoke' ).hidden = ! t || t.revoked || t.expired;

			var job = view.job;
			var box = $( 'sitelift-incoming' );
			if ( job ) {
				if ( job.phase === 'finalizing' ) {
					sawFinalize = true;
				}
				var phases = {
					receiving: __( 'Receiving', 'sitelift' ),
					finalizing: __( 'Verifying and switching over', 'sitelift' ),
					done: __( 'Done', 'sitelift' ),
					failed: __( 'Failed', 'sitelift' ),
				};
				var rows = [
					el( 'dt', { text: __( 'Phase', 'sitelift' ) } ), el( 'dd', { id: 'sitelift-incoming-phase', text: phases[ job.phase ] || job.phase } ),
					el( 'dt', { text: __( 'From', 'sitelift' ) } ), el( 'dd', { className: 'code', text: job.source_url || '' } ),
					el( 'dt', { text: __( 'Received', 'sitelift' ) } ), el( 'dd', { text: bytes( job.bytes ) + ' · ' + sprintf( _n( '%d part', '%d parts', job.next_index || 0, 'sitelift' ), job.next_index || 0 ) } ),
					el( 'dt', { text: __( 'Started', 'sitelift' ) } ), el( 'dd', { text: when( job.started_at ) } ),
					el( 'dt', { text: __( 'Last activity', 'sitelift' ) } ), el( 'dd', { text: when( job.updated_at ) } ),
				];
				if ( job.error ) {
					rows.push( el( 'dt', { text: __( 'Error', 'sitelift' ) } ), el( 'dd', { className: 'sitelift-error', text: job.error } ) );
				}
				var parts = [ el( 'dl', { className: 'sitelift-kv' }, rows ) ];
				if ( job.phase === 'done' && job.result ) {
					parts.push( el( 'h3', { text: __( 'Summary', 'sitelift' ) } ), reportList( job.result ) );
				}
				replace( box, parts );
			}
			var importCard = $( 'sitelift-import-card' );
			importCard.hidden = ! view.import;
			if ( view.import ) {
				replace( $( 'sitelift-import' ), reportList( view.import ) );
				$( 'sitelift-rollback' ).disabled = ! view.can_rollback;
				$( 'sitelift-cleanup' ).disabled = ! view.can_rollback;
			}
		}

		async function poll() {
			for ( ;; ) {
				var active = view.job && ( view.job.phase === 'receiving' || view.job.phase === 'finalizing' );
				await sleep( active ? 2000 : 8000 );
				if ( lost || document.hidden ) {
					continue;
				}
				try {
					view = await api( '/admin/receive' );
					render();
				} catch ( err ) {
					if ( err && ( err.code === 'rest_not_logged_in' || err.code === 'rest_forbidden' || err.code === 'rest_cookie_invalid_nonce' ) ) {
						lost = true;
						notice( sawFinalize
							? __( 'The migration has replaced this site, including its users: log in again with the username and password of the site you moved here.', 'sitelift' )
							: __( 'Your session has ended. Log in again to see the migration\'s status.', 'sitelift' ), sawFinalize ? 'success' : 'warning' );
					}
				}
			}
		}

		$( 'sitelift-generate' ).addEventListener( 'click', function () {
			var name = $( 'sitelift-site-name' ).value.trim();
			if ( ! name ) {
				notice( __( 'Enter a site name.', 'sitelift' ) );
				return;
			}
			if ( view.token && ! view.token.revoked && ! view.token.expired &&
				// eslint-disable-next-line no-alert
				! window.confirm( __( 'Generate a new token? The current one stops working.', 'sitelift' ) ) ) {
				return;
			}
			$( 'sitelift-generate' ).disabled = true;
			clearNotice();
			api( '/admin/receive/token', 'POST', { site_name: name, ttl: parseInt( $( 'sitelift-ttl' ).value, 10 ) } ).then( function ( res ) {
				$( 'sitelift-token-value' ).value = res.token;
				$( 'sitelift-site-name' ).value = res.site_name;
				$( 'sitelift-new-token' ).hidden = false;
				$( 'sitelift-copied' ).textContent = '';
				view = res.view;
				render();
				/* translators: 1: site name, 2: date and time. */
				notice( sprintf( __( 'Token generated for the site name "%1$s". It expires on %2$s.', 'sitelift' ), res.site_name, when( res.expires_at ) ), 'success' );
			}, function ( err ) {
				notice( errorText( err ) );
			} ).then( function () {
				$( 'sitelift-generate' ).disabled = false;
			} );
		} );

		$( 'sitelift-copy' ).addEventListener( 'click', function () {
			var field = $( 'sitelift-token-value' );
			function done() {
				$( 'sitelift-copied' ).textContent = __( 'Copied.', 'sitelift' );
			}
			if ( navigator.clipboard && window.isSecureContext ) {
				navigator.clipboard.writeText( field.value ).then( done, function () {
					field.select();
					document.execCommand( 'copy' );
					done();
				} );
			} else {
				field.select();
				document.execCommand( 'copy' );
				done();
			}
		} );

		$( 'sitelift-revoke' ).addEventListener( 'click', function () {
			// eslint-disable-next-line no-alert
			if ( ! window.confirm( __( 'Revoke the token? A migration using it is refused from then on.', 'sitelift' ) ) ) {
				return;
			}
			api( '/admin/receive/revoke', 'POST' ).then( function ( next ) {
				view = next;
				$( 'sitelift-new-token' ).hidden = true;
				$( 'sitelift-token-value' ).value = '';
				render();
				notice( __( 'The token was revoked.', 'sitelift' ), 'info' );
			}, function ( err ) {
				notice( errorText( err ) );
			} );
		} );

		$( 'sitelift-rollback' ).addEventListener( 'click', function () {
			// eslint-disable-next-line no-alert
			if ( ! window.confirm( __( 'Put back the site this migration replaced? The migrated site is removed.', 'sitelift' ) ) ) {
				return;
			}
			api( '/admin/receive/rollback', 'POST' ).then( function ( next ) {
				view = next;
				render();
				notice( __( 'The previous site is back. Log in with its own accounts.', 'sitelift' ), 'success' );
			}, function ( err ) {
				notice( errorText( err ) );
			} );
		} );

		$( 'sitelift-cleanup' ).addEventListener( 'click', function () {
			// eslint-disable-next-line no-alert
			if ( ! window.confirm( __( 'Delete the backup of the previous site? A rollback is no longer possible afterwards.', 'sitelift' ) ) ) {
				return;
			}
			api( '/admin/receive/cleanup', 'POST' ).then( function ( next ) {
				view = next;
				render();
				notice( __( 'The backup was deleted.', 'sitelift' ), 'success' );
			}, function ( err ) {
				notice( errorText( err ) );
			} );
		} );

		render();
		poll();
	}

	if ( cfg.tab === 'receive' ) {
		initReceive();
	} else {
		initMigrate();
	}
}() );
