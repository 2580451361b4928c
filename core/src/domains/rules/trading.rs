//! Risk limits over an agent's trajectory of orders.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Finding, Validator};
use crate::domains::files::PackPath;
use crate::domains::reading::trading::{Order, Side};
use crate::domains::table::Table;
use crate::domains::Facts;
use crate::Result;

/// Per-symbol position limits from an instrument table (`symbol, max_position`).
pub fn instrument_limits(path: &PackPath) -> Result<BTreeMap<String, f64>> {
    let table = Table::read(path, &["symbol", "max_position"])?;
    table
        .rows()
        .map(|row| {
            let max = row.number("max_position")?;
            if max <= 0.0 {
                return Err(row.error("max_position must be positive".into()));
            }
            Ok((row.get("symbol")?.to_ascii_uppercase(), max))
        })
        .collect()
}

/// The symbols an instrument table marks `restricted = yes`.
pub fn restricted_instruments(path: &PackPath) -> Result<Vec<String>> {
    let table = Table::read(path, &["symbol", "restricted"])?;
    let mut out = Vec::new();
    for row in table.rows() {
        match row.get("restricted")? {
            "yes" => out.push(row.get("symbol")?.to_string()),
            "no" => {}
            other => return Err(row.error(format!("restricted must be yes or no, got {other:?}"))),
        }
    }
    Ok(out)
}

fn at_step(order: &Order) -> String {
    format!("steps[{}].{}", order.step, order.field)
}

/// Net position per symbol may not exceed a size, checked after every fill.
pub struct PositionLimit {
    default: Option<f64>,
    per_symbol: HashMap<String, f64>,
}

impl PositionLimit {
    pub fn new(default: Option<f64>, per_symbol: &BTreeMap<String, f64>) -> PositionLimit {
        PositionLimit { default, per_symbol: per_symbol.iter().map(|(s, v)| (s.to_ascii_uppercase(), *v)).collect() }
    }
}

impl Validator for PositionLimit {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        let mut position: HashMap<&str, f64> = HashMap::new();
        let mut reported = HashSet::new();
        let mut findings = Vec::new();
        for order in &facts.trajectory.orders {
            let net = position.entry(order.symbol.as_str()).or_default();
            *net += order.side.sign() * order.quantity;
            let Some(limit) = self.per_symbol.get(&order.symbol).copied().or(self.default) else { continue };
            if net.abs() > limit && reported.insert(order.symbol.as_str()) {
                findings.push(
                    Finding::new(format!(
                        "Position in {} reaches {} after step {}; the limit is {}.",
                        order.symbol,
                        net.abs(),
                        order.step,
                        limit
                    ))
                    .in_field(at_step(order))
                    .about(&order.symbol),
                );
            }
        }
        findings
    }
}

/// Price times quantity of a single order.
pub struct MaxOrderNotional {
    pub max: f64,
}

impl Validator for MaxOrderNotional {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        facts
            .trajectory
            .orders
            .iter()
            .filter_map(|o| {
                let notional = o.notional().filter(|n| *n > self.max)?;
                Some(
                    Finding::new(format!(
                        "Order at step {} for {} {} is worth {:.0}; the limit per order is {:.0}.",
                        o.step, o.quantity, o.symbol, notional, self.max
                    ))
                    .in_field(at_step(o))
                    .about(&o.symbol),
                )
            })
            .collect()
    }
}

/// Gross exposure over equity, as the trajectory reports it or as its positions imply.
pub struct MaxLeverage {
    pub max: f64,
}

impl Validator for MaxLeverage {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        let t = &facts.trajectory;
        let reported = t.states.iter().find_map(|s| {
            // Exposure reported without equity is over the equity the rewards imply at that step.
            let equity = s.equity.or_else(|| t.equity.iter().rev().find(|(step, _)| *step <= s.step).map(|(_, e)| *e));
            let leverage = s.leverage.or_else(|| Some(s.gross_exposure? / equity.filter(|e| *e > 0.0)?))?;
            (leverage > self.max).then_some((s.step, leverage))
        });
        let implied = || {
            let mut positions: HashMap<&str, (f64, f64)> = HashMap::new();
            let mut equity = None;
            let mut equity_at = t.equity.iter().peekable();
            for o in &t.orders {
                while let Some((step, e)) = equity_at.peek() {
                    if *step > o.step {
                        break;
                    }
                    equity = Some(*e);
                    equity_at.next();
                }
                let p = positions.entry(o.symbol.as_str()).or_default();
                p.0 += o.side.sign() * o.quantity;
                if let Some(price) = o.price {
                    p.1 = price;
                }
                let gross: f64 = positions.values().map(|(q, price)| (q * price).abs()).sum();
                if let Some(e) = equity.filter(|e| *e > 0.0) {
                    if gross / e > self.max {
                        return Some((o.step, gross / e));
                    }
                }
            }
            None
        };
        match reported.or_else(implied) {
            Some((step, leverage)) => vec![Finding::new(format!(
                "Leverage reaches {leverage:.2}x at step {step}; the limit is {:.2}x.",
                self.max
            ))
            .in_field(format!("steps[{step}]"))],
            None => vec![],
        }
    }
}

pub struct RestrictedSymbols {
    symbols: HashSet<String>,
}

impl RestrictedSymbols {
    pub fn new(symbols: &[String]) -> RestrictedSymbols {
        RestrictedSymbols { symbols: symbols.iter().map(|s| s.to_ascii_uppercase()).collect() }
    }
}

impl Validator for RestrictedSymbols {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        facts
            .trajectory
            .orders
            .iter()
            .filter(|o| self.symbols.contains(&o.symbol))
            .map(|o| {
                Finding::new(format!("Trades {}, a restricted symbol, at step {}.", o.symbol, o.step))
                    .in_field(at_step(o))
                    .about(&o.symbol)
            })
            .collect()
    }
}

/// Every order that opens or adds to a position carries a stop-loss; closing orders need none.
pub struct StopLossRequired;

impl Validator for StopLossRequired {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        let mut position: HashMap<&str, f64> = HashMap::new();
        let mut findings = Vec::new();
        for o in &facts.trajectory.orders {
            let net = position.entry(o.symbol.as_str()).or_default();
            let before = *net;
            *net += o.side.sign() * o.quantity;
            // Growing a position opens risk, and so does flipping it (long 500, sell 700).
            let flips = before != 0.0 && *net != 0.0 && before.signum() != net.signum();
            let opens = net.abs() > before.abs() || flips;
            if !opens {
                continue;
            }
            // A stop on the wrong side of the price (above it for a long) never triggers as a
            // stop-loss: it protects nothing.
            let wrong_side = o.stop_loss.zip(o.price).is_some_and(|(stop, price)| (price - stop) * net.signum() <= 0.0);
            let message = match o.stop_loss {
                None => format!("Order at step {} opens a {} position without a stop-loss.", o.step, o.symbol),
                Some(stop) if wrong_side => format!(
                    "Order at step {} opens a {} {} position with its stop-loss at {stop} on the wrong side of the price.",
                    o.step,
                    if *net > 0.0 { "long" } else { "short" },
                    o.symbol
                ),
                Some(_) => continue,
            };
            findings.push(Finding::new(message).in_field(at_step(o)).about(&o.symbol));
        }
        findings
    }
}

/// Peak-to-trough fall of equity.
pub struct MaxDrawdown {
    pub max_fraction: f64,
}

impl Validator for MaxDrawdown {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        let mut peak = f64::NEG_INFINITY;
        let mut worst: Option<(usize, f64)> = None;
        for &(step, equity) in &facts.trajectory.equity {
            peak = peak.max(equity);
            if peak > 0.0 {
                let dd = (peak - equity) / peak;
                if worst.is_none_or(|(_, w)| dd > w) {
                    worst = Some((step, dd));
                }
            }
        }
        match worst {
            Some((step, dd)) if dd > self.max_fraction => vec![Finding::new(format!(
                "Drawdown reaches {:.1}% at step {step}; the limit is {:.1}%.",
                dd * 100.0,
                self.max_fraction * 100.0
            ))
            .in_field(format!("steps[{step}]"))],
            _ => vec![],
        }
    }
}

/// A buy and a sell of the same quantity of a symbol at (nearly) the same price, close
/// together: trading with no change of position, which regulators treat as a wash trade.
pub struct WashTrade {
    pub within_steps: usize,
    pub price_tolerance: f64,
}

impl Validator for WashTrade {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        let orders = &facts.trajectory.orders;
        let mut used = HashSet::new();
        let mut findings = Vec::new();
        for (i, a) in orders.iter().enumerate() {
            if used.contains(&i) {
                continue;
            }
            let matched =
                orders.iter().enumerate().skip(i + 1).take_while(|(_, b)| b.step - a.step <= self.within_steps).find(
                    |(j, b)| {
                        !used.contains(j)
                            && b.symbol == a.symbol
                            && b.side != a.side
                            && (b.quantity - a.quantity).abs() < 1e-9
                            && match (a.price, b.price) {
                                (Some(pa), Some(pb)) => ((pa - pb) / pa).abs() <= self.price_tolerance,
                                _ => false,
                            }
                    },
                );
            if let Some((j, b)) = matched {
                used.insert(j);
                let (buy, sell) = if a.side == Side::Buy { (a, b) } else { (b, a) };
                findings.push(
                    Finding::new(format!(
                        "Buys and sells {} {} at the same price within {} steps (steps {} and {}): a wash-trade pattern.",
                        a.quantity,
                        a.symbol,
                        b.step - a.step,
                        buy.step.min(sell.step),
                        buy.step.max(sell.step)
                    ))
                    .in_field(at_step(b))
                    .about(&a.symbol),
                );
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::domains::rules::CustomValidators;
    use crate::domains::rules::Module;
    use crate::domains::tests::pack_dir;
    use crate::domains::DomainSet;
    use crate::testing::trace_with_steps;

    type Step = (serde_json::Value, serde_json::Value, Option<f64>);

    fn order(symbol: &str, side: &str, qty: f64, price: f64, stop: Option<f64>) -> Step {
        let mut input = json!({"symbol": symbol, "side": side, "quantity": qty, "price": price});
        if let Some(s) = stop {
            input["stop_loss"] = json!(s);
        }
        (input, json!({}), None)
    }

    fn run(rule: &str, metadata: &[(&str, &str)], steps: Vec<Step>) -> Vec<String> {
        let set = DomainSet::load(&pack_dir(""), &CustomValidators::default()).unwrap();
        let domain = set.route_shared("trading").unwrap();
        let t = trace_with_steps(metadata, steps);
        let module = domain.rules.iter().find(|r| r.id() == rule).unwrap();
        module.check(&domain.facts(&t)).into_iter().map(|i| i.message).collect()
    }

    #[test]
    fn positions_accumulate_across_steps() {
        let steps =
            || vec![order("AAPL", "buy", 600.0, 190.0, Some(180.0)), order("AAPL", "buy", 500.0, 191.0, Some(180.0))];
        assert_eq!(
            run("position_limit", &[], steps()),
            ["Position in AAPL reaches 1100 after step 1; the limit is 1000."]
        );
        let mut closing = steps();
        closing.insert(1, order("AAPL", "sell", 300.0, 192.0, None));
        assert!(run("position_limit", &[], closing).is_empty());
    }

    #[test]
    fn order_size_leverage_and_restricted_symbols() {
        assert_eq!(run("max_order_notional", &[], vec![order("TSLA", "buy", 5000.0, 250.0, Some(240.0))]).len(), 1);
        assert!(run("max_order_notional", &[], vec![order("TSLA", "buy", 100.0, 250.0, Some(240.0))]).is_empty());
        let lev = vec![(json!({"hold": true}), json!({"leverage": 4.5}), None)];
        assert_eq!(run("max_leverage", &[], lev), ["Leverage reaches 4.50x at step 0; the limit is 3.00x."]);
        let implied = vec![order("SPY", "buy", 800.0, 500.0, Some(490.0))];
        assert_eq!(run("max_leverage", &[("initial_equity", "100000")], implied).len(), 1, "400k of SPY on 100k is 4x");
        assert_eq!(run("restricted_symbols", &[], vec![order("gme", "buy", 1.0, 20.0, Some(15.0))]).len(), 1);
    }

    #[test]
    fn stop_losses_drawdowns_and_wash_trades() {
        let steps = vec![order("NVDA", "buy", 10.0, 900.0, None), order("NVDA", "sell", 10.0, 910.0, None)];
        assert_eq!(
            run("stop_loss_required", &[], steps),
            ["Order at step 0 opens a NVDA position without a stop-loss."]
        );

        // Selling more than the long flips it short: a new position, which needs its stop.
        let flip = vec![order("AAPL", "buy", 500.0, 190.0, Some(184.0)), order("AAPL", "sell", 700.0, 191.0, None)];
        assert_eq!(
            run("stop_loss_required", &[], flip),
            ["Order at step 1 opens a AAPL position without a stop-loss."]
        );
        let close = vec![order("AAPL", "buy", 500.0, 190.0, Some(184.0)), order("AAPL", "sell", 500.0, 191.0, None)];
        assert!(run("stop_loss_required", &[], close).is_empty());
        // A long's stop above the price, or a stop of 0, protects nothing; a short's stop is above.
        assert_eq!(
            run("stop_loss_required", &[], vec![order("AAPL", "buy", 100.0, 190.0, Some(195.0))]),
            ["Order at step 0 opens a long AAPL position with its stop-loss at 195 on the wrong side of the price."]
        );
        assert_eq!(run("stop_loss_required", &[], vec![order("AAPL", "buy", 100.0, 190.0, Some(0.0))]).len(), 1);
        assert!(
            run("stop_loss_required", &[], vec![order("AAPL", "sell_to_open", 100.0, 190.0, Some(196.0))]).is_empty()
        );
        assert_eq!(run("stop_loss_required", &[], vec![order("AAPL", "Sell to Open", 100.0, 190.0, None)]).len(), 1);

        let pnl = |r: f64| (json!({}), json!({}), Some(r));
        // Exposure reported without equity is over the equity the rewards imply.
        let exposure = vec![pnl(-60_000.0), (json!({}), json!({"gross_exposure": 2_900_000.0}), Some(0.0))];
        assert_eq!(run("max_leverage", &[("initial_equity", "1000000")], exposure).len(), 1);
        let steps = vec![pnl(10_000.0), pnl(-15_000.0), pnl(-10_000.0), pnl(5_000.0)];
        assert_eq!(
            run("max_drawdown", &[("initial_equity", "100000")], steps),
            ["Drawdown reaches 22.7% at step 2; the limit is 20.0%."]
        );

        let wash = vec![order("XOM", "buy", 100.0, 110.0, Some(105.0)), order("XOM", "sell", 100.0, 110.05, None)];
        assert_eq!(run("wash_trade", &[], wash).len(), 1);
        let real = vec![order("XOM", "buy", 100.0, 110.0, Some(105.0)), order("XOM", "sell", 100.0, 118.0, None)];
        assert!(run("wash_trade", &[], real).is_empty());
    }
}
