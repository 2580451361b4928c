//! The browser's end of `/ws/traces`: the organization's evaluations as they finish. The
//! session cookie authenticates the websocket; nothing runs on the server side of a render.

use aegis_core::model::LiveEvent;
use leptos::prelude::*;

/// What a page gets from the live feed.
#[derive(Clone, Copy)]
pub struct LiveFeed {
    /// The latest evaluations, newest first.
    pub events: ReadSignal<Vec<LiveEvent>>,
    /// How many arrived since the page opened: pages refresh when it moves.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub received: ReadSignal<u64>,
    pub connected: ReadSignal<bool>,
}

/// Subscribes the page to the live feed, keeping the latest `keep` events. Reconnects after a
/// dropped connection; closes when the page goes away.
pub fn use_live_feed(keep: usize) -> LiveFeed {
    let (events, set_events) = signal(Vec::<LiveEvent>::new());
    let (received, set_received) = signal(0u64);
    let (connected, set_connected) = signal(false);
    #[cfg(feature = "hydrate")]
    browser::connect(keep, set_events, set_received, set_connected);
    #[cfg(not(feature = "hydrate"))]
    let _ = (keep, set_events, set_received, set_connected);
    LiveFeed { events, received, connected }
}

/// Calls `refresh` at most once per `every` while new events keep arriving, so a page follows
/// the feed without reloading per event at a thousand traces a second.
pub fn refresh_on_events(feed: LiveFeed, every: std::time::Duration, refresh: impl Fn() + Clone + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let seen = StoredValue::new(0u64);
        Effect::new(move |_| {
            let refresh = refresh.clone();
            let handle = set_interval_with_handle(
                move || {
                    // Callbacks may outlive the page: every access tolerates a disposed value.
                    let Some(now) = feed.received.try_get_untracked() else { return };
                    if Some(now) != seen.try_get_value() {
                        seen.try_set_value(now);
                        refresh();
                    }
                },
                every,
            );
            if let Ok(handle) = handle {
                on_cleanup(move || handle.clear());
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (feed, every, refresh);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::time::Duration;

    use aegis_core::model::LiveEvent;
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{MessageEvent, WebSocket};

    const RECONNECT_AFTER: Duration = Duration::from_secs(2);

    pub fn connect(
        keep: usize,
        set_events: WriteSignal<Vec<LiveEvent>>,
        set_received: WriteSignal<u64>,
        set_connected: WriteSignal<bool>,
    ) {
        let socket = StoredValue::new_local(None::<WebSocket>);
        let alive = StoredValue::new(true);
        Effect::new(move |_| open(keep, socket, alive, set_events, set_received, set_connected));
        on_cleanup(move || {
            alive.try_set_value(false);
            socket.try_with_value(|s| {
                if let Some(s) = s {
                    let _ = s.close();
                }
            });
        });
    }

    fn open(
        keep: usize,
        socket: StoredValue<Option<WebSocket>, LocalStorage>,
        alive: StoredValue<bool>,
        set_events: WriteSignal<Vec<LiveEvent>>,
        set_received: WriteSignal<u64>,
        set_connected: WriteSignal<bool>,
    ) {
        let Some(location) = web_sys::window().map(|w| w.location()) else { return };
        let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
        let Ok(host) = location.host() else { return };
        let Ok(ws) = WebSocket::new(&format!("{scheme}://{host}/ws/traces")) else { return };

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
            let Some(text) = m.data().as_string() else { return };
            let Ok(event) = serde_json::from_str::<LiveEvent>(&text) else { return };
            // The page may be gone by now: `try_` accessors ignore disposed signals.
            set_events.try_update(|list| {
                list.insert(0, event);
                list.truncate(keep);
            });
            set_received.try_update(|n| *n += 1);
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        let on_open = Closure::<dyn FnMut()>::new(move || {
            set_connected.try_set(true);
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let on_close = Closure::<dyn FnMut()>::new(move || {
            set_connected.try_set(false);
            if alive.try_get_value() == Some(true) {
                set_timeout(
                    move || {
                        if alive.try_get_value() == Some(true) {
                            open(keep, socket, alive, set_events, set_received, set_connected);
                        }
                    },
                    RECONNECT_AFTER,
                );
            }
        });
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
        socket.try_set_value(Some(ws));
    }
}
