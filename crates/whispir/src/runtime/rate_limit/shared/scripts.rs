//! The Lua scripts the store runs, one per kind of decision, each atomic on
//! the server and on its clock. Each is a file next to this one (a packaged
//! crate carries them), read by the cross-crate tests too.

/// May a request go now: the pace, the pauses and the daily budget.
pub(super) const TAKE: &str = include_str!("take.lua");

/// Moves a booked turn to the time it is actually sent, if the window
/// allows it then.
pub(super) const CONFIRM: &str = include_str!("confirm.lua");

/// Holds every process for a pause the API asked for.
pub(super) const BACK_OFF: &str = include_str!("back_off.lua");

/// Gives back a daily unit taken for a request never sent.
pub(super) const GIVE_BACK: &str = include_str!("give_back.lua");

/// Adds what a process sent through its local fallback to the daily count,
/// each send once.
pub(super) const COUNT_FALLBACK: &str = include_str!("count_fallback.lua");
