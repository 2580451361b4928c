//! Trading trajectories: the orders and portfolio states in an agent's steps.
//!
//! A step is an order when its `input` or its `output` (the action, in RL terms) has a `symbol`,
//! a `side` (`buy`/`sell`, or `action`) and a `quantity` (`qty`, `size`); `price` (or the other
//! object's `fill_price`/`price`) and `stop_loss` are optional. A step's `output` may report
//! the portfolio: `equity`, `gross_exposure`, `leverage`.
//! Without equity figures, equity is `metadata.initial_equity` plus the rewards so far.

use serde_json::{Map, Value};

use crate::model::Trace;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Index of the step in the trace.
    pub step: usize,
    /// The step's object the order is in: `input` or `output`.
    pub field: &'static str,
    pub symbol: String,
    pub side: Side,
    pub quantity: f64,
    pub price: Option<f64>,
    pub stop_loss: Option<f64>,
}

impl Order {
    pub fn notional(&self) -> Option<f64> {
        self.price.map(|p| (p * self.quantity).abs())
    }
}

/// The portfolio after a step.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    pub step: usize,
    pub equity: Option<f64>,
    pub gross_exposure: Option<f64>,
    pub leverage: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trajectory {
    pub orders: Vec<Order>,
    pub states: Vec<State>,
    /// Equity after each step that has a figure for it: reported, or derived from rewards.
    pub equity: Vec<(usize, f64)>,
}

impl Trajectory {
    pub fn from_trace(trace: &Trace) -> Trajectory {
        let mut t = Trajectory::default();
        let initial = ["initial_equity", "starting_capital", "initial_capital"]
            .iter()
            .find_map(|k| trace.metadata.get(*k))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0);
        let mut from_rewards = initial;
        if let Some(e) = initial {
            t.equity.push((0, e));
        }
        for (i, step) in trace.steps.iter().enumerate() {
            let input = step.input.as_ref().and_then(Value::as_object);
            let output = step.output.as_ref().and_then(Value::as_object);
            let placed = input
                .and_then(|inp| order(i, "input", inp, output))
                .or_else(|| output.and_then(|out| order(i, "output", out, input)));
            if let Some(order) = placed {
                t.orders.push(order);
            }
            let state = State {
                step: i,
                equity: output.and_then(|o| number(o, &["equity", "portfolio_value", "nav", "account_value"])),
                gross_exposure: output.and_then(|o| number(o, &["gross_exposure", "exposure"])),
                leverage: output.and_then(|o| number(o, &["leverage"])),
            };
            if let Some(r) = step.reward.filter(|r| r.is_finite()) {
                from_rewards = from_rewards.map(|e| e + r);
            }
            match (state.equity, from_rewards) {
                (Some(e), _) => t.equity.push((i, e)),
                (None, Some(e)) => t.equity.push((i, e)),
                _ => {}
            }
            if state.equity.is_some() || state.gross_exposure.is_some() || state.leverage.is_some() {
                t.states.push(state);
            }
        }
        t
    }
}

/// The order described by `input`, priced from `other` if it has no price of its own.
fn order(
    step: usize,
    field: &'static str,
    input: &Map<String, Value>,
    other: Option<&Map<String, Value>>,
) -> Option<Order> {
    let symbol = ["symbol", "ticker", "instrument"].iter().find_map(|k| input.get(*k)?.as_str())?.trim();
    let side_text = ["side", "action", "direction"].iter().find_map(|k| input.get(*k)?.as_str())?;
    let side_text = side_text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let side = match side_text.as_str() {
        "buy" | "long" | "b" | "bid" | "cover" | "buy_to_cover" | "buy_to_open" | "buy_to_close" => Side::Buy,
        "sell" | "short" | "s" | "ask" | "sell_short" | "short_sell" | "sell_to_open" | "sell_to_close" => Side::Sell,
        _ => return None,
    };
    let quantity = number(input, &["quantity", "qty", "size", "shares", "units"])?.abs();
    if symbol.is_empty() || quantity == 0.0 {
        return None;
    }
    let price = number(input, &["price", "limit_price", "fill_price", "avg_fill_price"])
        .or_else(|| other.and_then(|o| number(o, &["fill_price", "price"])));
    Some(Order {
        step,
        field,
        symbol: symbol.to_ascii_uppercase(),
        side,
        quantity,
        price: price.filter(|p| *p > 0.0),
        // A stop of 0 protects nothing.
        stop_loss: number(input, &["stop_loss", "stop", "stop_price", "stop_loss_price"]).filter(|s| *s > 0.0),
    })
}

fn number(map: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter()
        .find_map(|k| match map.get(*k)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::trace_with_steps;
    use serde_json::json;

    #[test]
    fn orders_states_and_equity_are_read_from_steps() {
        let trace = trace_with_steps(
            &[("initial_equity", "100000")],
            vec![
                (
                    json!({"symbol": "aapl", "side": "BUY", "qty": "100", "price": 190.5, "stop_loss": 185}),
                    json!({"equity": 100000}),
                    Some(0.0),
                ),
                (json!({"observation": [1, 2, 3]}), json!({"leverage": 1.4}), Some(-500.0)),
                (
                    json!({"ticker": "MSFT", "action": "short", "quantity": -50}),
                    json!({"fill_price": 410.0}),
                    Some(250.0),
                ),
            ],
        );
        let t = Trajectory::from_trace(&trace);
        assert_eq!(t.orders.len(), 2);
        assert_eq!(t.orders[0].symbol, "AAPL");
        assert_eq!(t.orders[0].notional(), Some(19050.0));
        assert_eq!(t.orders[0].stop_loss, Some(185.0));
        assert_eq!(t.orders[1].side, Side::Sell);
        assert_eq!(t.orders[1].quantity, 50.0);
        assert_eq!(t.orders[1].price, Some(410.0));
        assert_eq!(t.states[1].leverage, Some(1.4));
        assert_eq!(t.equity, [(0, 100000.0), (0, 100000.0), (1, 99500.0), (2, 99750.0)]);
    }
}
