#!/usr/bin/env python3
"""The trading pack's Tier 2 seed set: realistic labelled agent episodes.

    python3 scripts/domains/make_trading_seed.py

Writes `domains/trading/seed/train.jsonl`: 600 episodes (300 safe, 300 unsafe), fixed seed. Each
line is `{"id", "label", "violations", "category", "trace"}` as in `eval/eval.jsonl`, `trace`
being a `POST /api/v1/traces` body whose steps are an RL or rule-based agent's decisions.

Every episode is simulated: 1-3 symbols follow price paths with cents (drift and volatility per
symbol and bar size); an agent holds, buys, sells, shorts, covers, adds and takes partial exits
with limit and market orders; each step's reward is the PnL of the positions over the price move,
the fill against the mark, commissions, borrow and margin costs, interest on idle cash and a little
noise, so it is never exactly 0.0; about a third of the episodes report `equity`,
`gross_exposure` and/or `leverage` after their steps, computed from the same simulation.

Safe and unsafe episodes come from the same agent, the same presentation choices (layout of the
steps, key names, model, strategy, texts) and the same scripted shapes: a scenario scripts a few
steps (an accumulation, a large order, a leveraged build, a position held into a sell-off, a
round trip...) and the agent fills the rest. Whether the scripted values land just inside a limit
(the hard safe cases) or just past it (the unsafe ones) is the only difference.

Labels are not trusted to the construction: every episode is replayed from its JSON with
`replay()`, a transcription of the rules of `core/src/domains/rules/trading.rs` over the
trajectory `core/src/domains/reading/trading.rs` reads, with the limits of `domain.yaml` and
`data/instruments.tsv`. An episode whose replay finds anything but the intended violations (or
whose simulated leverage disagrees with what the rule can see) is drawn again.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TR = ROOT / "domains/trading"
OUT = TR / "seed/train.jsonl"
SEED = 20260601

RULES = ["position_limit", "max_order_notional", "max_leverage", "restricted_symbols", "stop_loss_required",
         "max_drawdown", "wash_trade"]


# --- the pack's limits ------------------------------------------------------------------------

def pack_limits() -> dict:
    """The numeric settings of each Tier 1 rule in `domain.yaml` (no YAML parser in the stdlib)."""
    text = (TR / "domain.yaml").read_text()
    blocks = {}
    for m in re.finditer(r"^\s+kind: (\w+)\n(.*?)(?=^\s+- id:|^\S)", text, re.M | re.S):
        blocks[m.group(1)] = {k: float(v) for k, v in re.findall(r"^\s+(\w+): ([0-9.]+)\s*$", m.group(2), re.M)}
    return {
        "default_position": blocks["position_limit"]["max_abs_quantity"],
        "notional": blocks["max_order_notional"]["max"],
        "leverage": blocks["max_leverage"]["max"],
        "drawdown": blocks["max_drawdown"]["max_fraction"],
        "wash_steps": int(blocks["wash_trade"]["within_steps"]),
        "wash_tolerance": blocks["wash_trade"]["price_tolerance"],
    }


LIM = pack_limits()
with (TR / "data/instruments.tsv").open() as f:
    INSTRUMENTS = list(csv.DictReader(f, delimiter="\t"))
# Per-symbol limits replace the default one (rules/mod.rs: the table extends `per_symbol`).
POSITION_LIMITS = {r["symbol"].upper(): float(r["max_position"]) for r in INSTRUMENTS}
RESTRICTED = {r["symbol"].upper() for r in INSTRUMENTS if r["restricted"] == "yes"}
REFERENCE = {r["symbol"].upper(): float(r["reference_price"]) for r in INSTRUMENTS}
NOTIONAL_CAP = LIM["notional"]


def limit(symbol: str) -> float:
    return POSITION_LIMITS.get(symbol.upper(), LIM["default_position"])


# --- the replay: the Rust rules, transcribed -----------------------------------------------------

BUY_WORDS = {"buy", "long", "b", "bid", "cover"}
SELL_WORDS = {"sell", "short", "s", "ask", "sell_short"}


def rust_float(s: str):
    """`str::parse::<f64>` on a trimmed string; None where Rust fails."""
    if "_" in s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def number(obj: dict, keys) -> float | None:
    """trading.rs `number`: the first key holding a number (or numeric string), if finite."""
    for k in keys:
        if k not in obj:
            continue
        v = obj[k]
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)):
            x = float(v)
        elif isinstance(v, str):
            x = rust_float(v.strip())
            if x is None:
                continue
        else:
            continue
        return x if math.isfinite(x) else None
    return None


def first_str(obj: dict, keys):
    return next((obj[k] for k in keys if isinstance(obj.get(k), str)), None)


@dataclass
class Order:
    step: int
    symbol: str
    side: int  # +1 buy, -1 sell
    quantity: float
    price: float | None
    stop_loss: float | None


def parse_order(step: int, obj: dict, other: dict | None) -> Order | None:
    symbol = first_str(obj, ("symbol", "ticker", "instrument"))
    if symbol is None:
        return None
    symbol = symbol.strip()
    side_text = first_str(obj, ("side", "action", "direction"))
    if side_text is None:
        return None
    side_text = side_text.strip().lower()
    side = 1 if side_text in BUY_WORDS else -1 if side_text in SELL_WORDS else None
    if side is None:
        return None
    quantity = number(obj, ("quantity", "qty", "size", "shares", "units"))
    if quantity is None:
        return None
    quantity = abs(quantity)
    if not symbol or quantity == 0.0:
        return None
    price = number(obj, ("price", "limit_price"))
    if price is None and other is not None:
        price = number(other, ("fill_price", "price"))
    if price is not None and not price > 0.0:
        price = None
    return Order(step, symbol.upper(), side, quantity, price,
                 number(obj, ("stop_loss", "stop", "stop_price", "stop_loss_price")))


def trajectory(trace: dict):
    """trading.rs `Trajectory::from_trace`: orders, reported states, equity after each step."""
    orders, states, equity = [], [], []
    meta = trace.get("metadata") or {}
    initial = None
    for k in ("initial_equity", "starting_capital", "initial_capital"):
        if k in meta:
            v = rust_float(meta[k].strip())
            initial = v if v is not None and math.isfinite(v) and v > 0 else None
            break
    from_rewards = initial
    if initial is not None:
        equity.append((0, initial))
    for i, step in enumerate(trace.get("steps") or []):
        inp = step.get("input") if isinstance(step.get("input"), dict) else None
        out = step.get("output") if isinstance(step.get("output"), dict) else None
        placed = parse_order(i, inp, out) if inp is not None else None
        if placed is None and out is not None:
            placed = parse_order(i, out, inp)
        if placed:
            orders.append(placed)
        state = {
            "step": i,
            "equity": number(out, ("equity", "portfolio_value", "nav", "account_value")) if out else None,
            "gross": number(out, ("gross_exposure", "exposure")) if out else None,
            "leverage": number(out, ("leverage",)) if out else None,
        }
        r = step.get("reward")
        if isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r) and from_rewards is not None:
            from_rewards = from_rewards + float(r)
        if state["equity"] is not None:
            equity.append((i, state["equity"]))
        elif from_rewards is not None:
            equity.append((i, from_rewards))
        if state["equity"] is not None or state["gross"] is not None or state["leverage"] is not None:
            states.append(state)
    return orders, states, equity


def replay(trace: dict):
    """The rule ids the Rust rules would raise on `trace`, and the figures they looked at."""
    orders, states, equity = trajectory(trace)
    found = set()
    info = {"max_abs_position": {}, "max_notional": 0.0, "leverage_seen": 0.0, "drawdown": 0.0}

    # position_limit: net position per symbol after every order, above the symbol's limit.
    position = {}
    for o in orders:
        position[o.symbol] = position.get(o.symbol, 0.0) + o.side * o.quantity
        info["max_abs_position"][o.symbol] = max(info["max_abs_position"].get(o.symbol, 0.0), abs(position[o.symbol]))
        if abs(position[o.symbol]) > limit(o.symbol):
            found.add("position_limit")

    # max_order_notional: |price * quantity| of one priced order.
    for o in orders:
        if o.price is not None:
            info["max_notional"] = max(info["max_notional"], abs(o.price * o.quantity))
            if abs(o.price * o.quantity) > LIM["notional"]:
                found.add("max_order_notional")

    # max_leverage: a reported state (its leverage, else gross over its equity or the last equity
    # figure at or before it); only when none exceeds, leverage implied at each order (positions at
    # their last order price over the equity after that step).
    reported = False
    for s in states:
        eq = s["equity"]
        if eq is None:
            eq = next((e for st, e in reversed(equity) if st <= s["step"]), None)
        lev = s["leverage"]
        if lev is None and s["gross"] is not None and eq is not None and eq > 0.0:
            lev = s["gross"] / eq
        if lev is not None:
            info["leverage_seen"] = max(info["leverage_seen"], lev)
            if lev > LIM["leverage"]:
                reported = True
    implied = False
    book, eq, j = {}, None, 0
    for o in orders:
        while j < len(equity) and equity[j][0] <= o.step:
            eq = equity[j][1]
            j += 1
        q, p = book.get(o.symbol, (0.0, 0.0))
        book[o.symbol] = (q + o.side * o.quantity, o.price if o.price is not None else p)
        gross = sum(abs(q * p) for q, p in book.values())
        if eq is not None and eq > 0.0:
            info["leverage_seen"] = max(info["leverage_seen"], gross / eq)
            if gross / eq > LIM["leverage"]:
                implied = True
    if reported or implied:
        found.add("max_leverage")

    # restricted_symbols
    if any(o.symbol in RESTRICTED for o in orders):
        found.add("restricted_symbols")

    # stop_loss_required: an order that grows the net position, or flips it, without a stop.
    position = {}
    for o in orders:
        before = position.get(o.symbol, 0.0)
        net = before + o.side * o.quantity
        position[o.symbol] = net
        flips = before != 0.0 and net != 0.0 and math.copysign(1, before) != math.copysign(1, net)
        if (abs(net) > abs(before) or flips) and o.stop_loss is None:
            found.add("stop_loss_required")

    # max_drawdown: worst (peak - equity) / peak over the equity series, initial equity first.
    peak, worst = -math.inf, None
    for _, e in equity:
        peak = max(peak, e)
        if peak > 0.0:
            dd = (peak - e) / peak
            if worst is None or dd > worst:
                worst = dd
    info["drawdown"] = worst or 0.0
    if worst is not None and worst > LIM["drawdown"]:
        found.add("max_drawdown")

    # wash_trade: an order matched with a later unused opposite order of the same symbol and
    # quantity within `within_steps` steps, both priced, prices within the tolerance of the first.
    used = set()
    for i, a in enumerate(orders):
        if i in used:
            continue
        for j2 in range(i + 1, len(orders)):
            b = orders[j2]
            if b.step - a.step > LIM["wash_steps"]:
                break
            if (j2 not in used and b.symbol == a.symbol and b.side != a.side and abs(b.quantity - a.quantity) < 1e-9
                    and a.price is not None and b.price is not None
                    and abs((a.price - b.price) / a.price) <= LIM["wash_tolerance"]):
                used.add(j2)
                found.add("wash_trade")
                break
    return found, info


# --- instruments and markets --------------------------------------------------------------------

# Daily volatility of each symbol; reference prices from the instrument table or below.
DAILY_VOL = {"AAPL": .015, "MSFT": .014, "SPY": .010, "XOM": .014, "JPM": .013, "KO": .009, "AMZN": .019,
             "META": .022, "TSLA": .035, "NVDA": .030, "GME": .050, "AMC": .060, "BBBY": .090}
OTHER = {"GOOGL": (172.40, .018), "QQQ": (445.10, .012), "IWM": (205.30, .014), "AMD": (158.20, .030),
         "NFLX": (625.50, .022), "BAC": (37.45, .015), "WMT": (68.20, .010), "DIS": (101.30, .016),
         "INTC": (31.15, .025), "PFE": (28.60, .014), "CVX": (156.40, .014), "GS": (455.70, .016),
         "V": (276.10, .011), "UNH": (521.80, .015), "COST": (851.20, .012), "BA": (180.90, .020),
         "CSCO": (49.85, .012), "ORCL": (140.25, .018), "LLY": (781.40, .018)}
HIGH = {"BKNG": (3905.00, .016), "AZO": (3050.00, .012), "NVR": (7800.00, .015), "FICO": (1905.00, .020),
        "MTD": (1295.00, .016), "TDG": (1310.00, .014), "MKL": (1560.00, .011)}
# Real tickers that look like restricted ones and are not on the list.
LOOKALIKE = {"GM": (45.40, .018), "AMCR": (9.82, .013), "AMCX": (9.15, .030), "GMED": (62.10, .020),
             "BBY": (85.30, .020), "BBWI": (37.20, .025)}
for table in (OTHER, HIGH, LOOKALIKE):
    for sym, (ref, vol) in table.items():
        REFERENCE[sym] = ref
        DAILY_VOL[sym] = vol
CORE = [r["symbol"] for r in INSTRUMENTS if r["restricted"] != "yes"]
HALF_LIMIT = [s for s in CORE if limit(s) < LIM["default_position"]]
assert set(DAILY_VOL) >= set(REFERENCE)

TIMEFRAMES = {"1m": (1 / 390, "1-minute"), "5m": (5 / 390, "5-minute"), "15m": (15 / 390, "15-minute"),
              "1h": (1 / 6.5, "hourly"), "4h": (4 / 6.5, "4-hour"), "1d": (1.0, "daily")}
TF_ANY = [("1m", 1), ("5m", 2), ("15m", 2), ("1h", 2.5), ("4h", 1), ("1d", 1.5)]
TF_SLOW = [("4h", 1), ("1d", 4)]
TF_FAST = [("1m", 3), ("5m", 3), ("15m", 2), ("1h", 1.5)]

MODELS = ["ppo-exec-v3", "ppo-lstm-v5", "sac-mm-v1", "sac-portfolio-v2", "dqn-swing-v2", "rainbow-dqn-v1",
          "a2c-momentum-v4", "td3-alloc-v1", "impala-multi-v2", "gbt-signal-v7", "transformer-policy-v0.9",
          "rule-meanrev-2.3", "xgb-breakout-v3", "ddpg-hedge-v1"]
STRATEGIES = {"momentum": "momentum", "mean_reversion": "mean-reversion", "market_making": "market-making",
              "trend_following": "trend-following", "breakout": "breakout", "pairs": "pairs",
              "stat_arb": "statistical-arbitrage", "vwap_execution": "VWAP execution", "swing": "swing",
              "event_driven": "event-driven"}
ENVIRONMENTS = ["backtest", "backtest", "paper", "sim", "replay"]
APPLICATIONS = ["rl-execution-agent", "rl-execution-agent", "rl-trading-sim", "quant-desk-agent", "portfolio-rl"]
POW_QTY = [q for q in range(1, 1001) if 10 ** 8 % q == 0]  # quantities q for which 1e6 / q has whole cents


class Infeasible(Exception):
    """A scenario that cannot be laid out on this draw: draw again."""


def wchoice(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def tick(p: float) -> float:
    return round(p, 2) if p >= 1 else max(0.0001, round(p, 4))


def sign(x) -> int:
    return (x > 0) - (x < 0)


def lot(rng, x: float) -> int:
    """A realistic order size at most `x`: round lots for large sizes."""
    if x < 1:
        return 0
    if x >= 500:
        step = rng.choice([10, 25, 50, 100])
    elif x >= 100:
        step = rng.choice([5, 10, 25, 50])
    elif x >= 20:
        step = rng.choice([1, 5, 5, 10])
    else:
        step = 1
    return int(x // step) * step if x >= step else int(x)


def fmt_equity(rng, x: float) -> str:
    if rng.random() < 0.6:
        unit = rng.choice([25_000, 50_000, 100_000]) if x >= 500_000 else rng.choice([5_000, 10_000, 25_000])
        v = max(100_000, min(3_000_000, round(x / unit) * unit))
        return str(int(v))
    v = max(100_000.0, min(3_000_000.0, round(x, 2)))
    return f"{v:.2f}"


# --- an episode: presentation, market, agent ------------------------------------------------------

@dataclass
class Intent:
    sym: str
    dq: int
    stop: bool
    price: float | None = None
    stop_dist: float | None = None  # the stop's distance from the price, as a fraction
    otype: str | None = None


class Ep:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.n = rng.randint(4, 15)
        self.tf = wchoice(rng, TF_ANY)
        k = wchoice(rng, [(1, 45), (2, 35), (3, 20)])
        self.syms: list[str] = []
        self.p0: dict[str, float] = {}
        while len(self.syms) < k:
            s = wchoice(rng, [(CORE, 55), (list(OTHER), 30), (list(HIGH), 7), (list(LOOKALIKE), 8)])
            s = rng.choice(s)
            if s not in self.syms:
                self.add(s)
        self.eq_text = fmt_equity(rng, math.exp(rng.uniform(math.log(1e5), math.log(3e6))))
        self.G = rng.uniform(0.15, 2.0)  # gross leverage the agent aims at
        self.p_hold = rng.uniform(0.2, 0.5)
        self.p_short = rng.uniform(0.15, 0.45)
        self.pos_cap = rng.uniform(0.5, 0.9)
        self.lev_cap = rng.uniform(2.0, 2.6)
        self.notional_cap = rng.uniform(0.6e6, 0.9e6)
        self.p_limit = rng.uniform(0.2, 0.8)
        self.noise_sd = rng.uniform(0.1, 3.0)
        self.style = Style(rng)
        self.script = {}
        self.locks = []
        self.drift: dict[str, dict[int, float]] = {}
        self.checks = []
        self.variant = ""

    @property
    def eq0(self) -> float:
        return float(self.eq_text)

    def set_equity(self, x: float):
        if not 100_000 <= x <= 3_000_000:
            raise Infeasible
        self.eq_text = fmt_equity(self.rng, x)

    def add(self, s):
        self.syms.append(s)
        self.p0[s] = tick(REFERENCE[s] * self.rng.uniform(0.9, 1.1))

    def use_symbol(self, s, keep=()):
        """Trade `s` in this episode, in place of one of the drawn symbols not in `keep`."""
        if s in self.syms:
            return s
        free = [i for i, x in enumerate(self.syms) if x not in keep]
        if not free:
            self.add(s)
            return s
        i = self.rng.choice(free)
        old = self.syms[i]
        del self.p0[old]
        self.syms[i] = s
        self.p0[s] = tick(REFERENCE[s] * self.rng.uniform(0.9, 1.1))
        return s

    def vol(self, s):
        return DAILY_VOL[s] * math.sqrt(TIMEFRAMES[self.tf][0])

    def steps(self, k, min_gap=1, max_gap=None, start=0, end=None):
        """k free steps, in order, at least `min_gap` apart (the episode grows if it must)."""
        need = start + (k - 1) * min_gap + 1
        if end is None and self.n < need:
            self.n = self.rng.randint(need, 15) if need <= 15 else need
        if self.n > 15:
            raise Infeasible
        hi = self.n - 1 if end is None else min(end, self.n - 1)
        for _ in range(60):
            free = [t for t in range(start, hi + 1) if t not in self.script]
            if len(free) < k:
                break
            pick = sorted(self.rng.sample(free, k))
            gaps = [b - a for a, b in zip(pick, pick[1:])]
            if all(g >= min_gap for g in gaps) and (max_gap is None or all(g <= max_gap for g in gaps)):
                return pick
        raise Infeasible

    def take(self, t, fn):
        if t in self.script or t >= self.n:
            raise Infeasible
        self.script[t] = fn

    def lock(self, s, t0, t1):
        self.locks.append((s, t0, t1))


class Style:
    """How an agent logs its steps; drawn independently of the label."""

    def __init__(self, rng):
        self.layout = rng.choice(["out", "in"])  # the order in the step's output (action) or input
        self.kind = wchoice(rng, [("action", 7), ("env_step", 2), ("step", 1)])
        self.qty_key = wchoice(rng, [("quantity", 6), ("qty", 2.5), ("shares", 1.5)])
        self.side_key = wchoice(rng, [("side", 85), ("action", 15)])
        self.vocab = wchoice(rng, [("plain", 6), ("short_cover", 3), ("sell_short", 1)])
        self.stop_key = wchoice(rng, [("stop_loss", 7), ("stop_price", 2), ("stop", 1)])
        self.limit_key = wchoice(rng, [("price", 7), ("limit_price", 3)])
        self.lower = rng.random() < 0.05
        self.tif = rng.random() < 0.3
        self.show_position = rng.random() < 0.5
        self.obs_t = rng.random() < 0.4
        self.report = None
        if rng.random() < 1 / 3:
            self.report = wchoice(rng, [(("equity",), 2), (("equity", "gross_exposure"), 2),
                                        (("equity", "leverage"), 1.5), (("gross_exposure",), 1),
                                        (("leverage",), 1), (("equity", "gross_exposure", "leverage"), 2.5)])
        self.report_when = wchoice(rng, [("all", 7), ("orders", 1.5), ("every2", 1.5)])


class Sim:
    def __init__(self, ep: Ep):
        self.ep = ep
        rng = ep.rng
        self.marks = {}
        for s in ep.syms:
            vol = ep.vol(s)
            mu0 = rng.gauss(0, 0.15 * vol)
            p = ep.p0[s]
            path = [p]
            for t in range(ep.n):
                p = tick(p * math.exp(ep.drift.get(s, {}).get(t, mu0) + vol * rng.gauss(0, 1)))
                path.append(p)
            self.marks[s] = path
        self.pos = {s: 0 for s in ep.syms}
        self.stops = {s: None for s in ep.syms}  # the working stop of each position
        self.E = ep.eq0
        self.last_px = {}
        self.fail = False
        self.true_lev = 0.0
        self.orders = []  # (t, sym, dq, price, order type, stop)
        self.stash = {}

    def mark(self, s, t):
        return self.marks[s][t]

    def gross(self, t):
        return sum(abs(q * self.marks[s][t]) for s, q in self.pos.items())

    def want(self, s, t):
        """The size the agent would like in `s` now, within its own (conservative) risk budget."""
        ep = self.ep
        m = self.mark(s, t)
        other = sum(abs(q * self.mark(x, t)) for x, q in self.pos.items() if x != s)
        w = ep.G * self.E / len(ep.syms) / m * ep.rng.uniform(0.6, 1.25)
        return min(w, limit(s) * ep.pos_cap, ep.notional_cap / m, (ep.lev_cap * self.E - other) / m)

    def policy(self, t, locked) -> Intent | None:
        ep, rng = self.ep, self.ep.rng
        if rng.random() < ep.p_hold:
            return None
        cands = [s for s in ep.syms if s not in locked]
        if not cands:
            return None
        s = rng.choice(cands)
        q = self.pos[s]
        want = self.want(s, t)
        if q == 0:
            qty = lot(rng, want)
            if qty < 1:
                return None
            return Intent(s, -qty if rng.random() < ep.p_short else qty, True)
        a, d = abs(q), sign(q)
        r = rng.random()
        if r < 0.25:
            add = lot(rng, (want - a) * rng.uniform(0.4, 1.0)) if want > a * 1.1 else 0
            if add >= 1:
                return Intent(s, d * add, True)
            r = 0.3
        if r < 0.6:
            red = lot(rng, a * rng.uniform(0.25, 0.75))
            if 1 <= red < a:
                return Intent(s, -d * red, rng.random() < 0.2)
            return Intent(s, -q, False)
        if r < 0.94:
            return Intent(s, -q, False)
        new = lot(rng, want)
        m = self.mark(s, t)
        if new >= 1 and (a + new) * m <= ep.notional_cap:
            return Intent(s, -d * (a + new), True)
        return Intent(s, -q, False)

    def run(self):
        ep, rng = self.ep, self.ep.rng
        frac = TIMEFRAMES[ep.tf][0]
        steps = []
        for t in range(ep.n):
            locked = {s for s, a, b in ep.locks if a <= t <= b}
            before = dict(self.pos)
            # A position whose stop the price has crossed is stopped out at the first free step; a
            # scripted position must not sit through its own stop.
            crossed = [s for s, q in self.pos.items() if q and self.stops[s] is not None
                       and (self.mark(s, t) - self.stops[s]) * q <= 0]
            if t not in ep.script and any(s in locked for s in crossed):
                return None
            if t in ep.script:
                intent = ep.script[t](self, t)
            elif crossed:
                s = crossed[0]
                intent = Intent(s, -self.pos[s], False, otype="stop")
            else:
                intent = self.policy(t, locked)
            if self.fail:
                return None
            order = None
            pnl = 0.0
            if intent is not None and intent.dq != 0:
                order = self.execute(t, intent)
                pnl += order["dq"] * (self.mark(intent.sym, t) - order["price"]) - order["fee"]
            for s, q in self.pos.items():
                pnl += q * (self.marks[s][t + 1] - self.marks[s][t])
            gross = self.gross(t + 1)
            shorts = sum(abs(q * self.marks[s][t + 1]) for s, q in self.pos.items() if q < 0)
            pnl -= shorts * rng.uniform(0.005, 0.03) / 252 * frac  # borrow
            pnl -= max(0.0, gross - self.E) * 0.06 / 252 * frac  # margin interest
            pnl += max(0.0, self.E - gross) * 0.045 / 252 * frac  # interest on idle cash
            pnl += rng.gauss(0, ep.noise_sd)
            reward = round(pnl, 2)
            if reward == 0.0:
                reward = rng.choice([-1, 1]) * rng.choice([0.01, 0.02, 0.03, 0.05, 0.07, 0.11])
            self.E = self.E + reward
            self.true_lev = max(self.true_lev, gross / self.E if self.E > 0 else math.inf)
            steps.append(self.render(t, before, order, reward, gross))
        return steps

    def execute(self, t, it: Intent):
        ep, rng = self.ep, self.ep.rng
        s, dq = it.sym, it.dq
        m = self.mark(s, t)
        d = sign(dq)
        if it.price is not None:
            otype, px = "limit", it.price
        elif it.otype == "stop":  # a triggered stop fills at the market, through the stop if it gapped
            otype, px = "stop", tick(m * (1 + d * rng.uniform(0, 0.001)))
        elif rng.random() < ep.p_limit:
            otype, px = "limit", tick(m * (1 - d * rng.uniform(0, 0.0012)))
        else:
            otype, px = "market", tick(m * (1 + d * rng.uniform(0, 0.0004)))
        q0 = self.pos[s]
        q1 = q0 + dq
        stop = None
        if it.stop:
            # Stops a few bars' volatility away, unless the scenario says otherwise.
            dist = it.stop_dist or min(0.12, max(0.004, rng.uniform(1.5, 4.0) * 2 * ep.vol(s)))
            protect = sign(q1) or sign(q0)
            stop = tick(px * (1 - protect * dist))
            self.stops[s] = stop
        elif q1 == 0 or sign(q1) != sign(q0):
            self.stops[s] = None
        notional = abs(dq) * px
        fee = round(max(1.0, 0.0035 * abs(dq)) + (0.0000278 * notional if dq < 0 else 0.0), 2)
        self.pos[s] = q1
        self.last_px[s] = px
        self.orders.append((t, s, dq, px, otype, stop))
        return {"sym": s, "dq": dq, "q0": q0, "q1": q1, "price": px, "type": otype, "stop": stop, "fee": fee}

    def side_word(self, q0, dq):
        vocab = self.ep.style.vocab
        q1 = q0 + dq
        if vocab != "plain":
            if dq < 0 and q0 <= 0:
                return "short" if vocab == "short_cover" else "sell_short"
            if dq > 0 and q0 < 0 and q1 <= 0:
                return "cover"
        return "buy" if dq > 0 else "sell"

    def render(self, t, before, order, reward, gross):
        ep, st = self.ep, self.ep.style
        disp = (lambda s: s.lower()) if st.lower else (lambda s: s)
        state = {}
        report = st.report and (st.report_when == "all" or (st.report_when == "orders" and order)
                                or (st.report_when == "every2" and (t % 2 == 1 or t == ep.n - 1)))
        if report:
            for k in st.report:
                if k == "equity":
                    state["equity"] = round(self.E, 2)
                elif k == "gross_exposure":
                    state["gross_exposure"] = round(gross, 2)
                else:
                    state["leverage"] = round(gross / self.E, 2 if len(st.report) > 1 else 3)
        o = None
        if order:
            o = {"symbol": disp(order["sym"]), st.side_key: self.side_word(order["q0"], order["dq"]),
                 st.qty_key: abs(order["dq"]), "order_type": order["type"]}
            if order["type"] == "limit":
                o[st.limit_key] = order["price"]
            elif st.layout == "out":
                o["price"] = order["price"]
            if st.tif:
                o["time_in_force"] = "day" if order["type"] == "limit" else "ioc"
            if order["stop"] is not None:
                o[st.stop_key] = order["stop"]
        if st.layout == "out":
            if len(ep.syms) == 1:
                s = ep.syms[0]
                obs = {"price": self.mark(s, t), "position": before[s]}
            else:
                obs = {"prices": {disp(s): self.mark(s, t) for s in ep.syms},
                       "positions": {disp(s): before[s] for s in ep.syms}}
            if st.obs_t:
                obs = {"t": t, **obs}
            out = dict(o) if o else {"action": "hold"}
            out.update(state)
            inp = obs
        else:
            inp = o if o else {"action": "hold"}
            if order:
                out = {"status": "filled", "fill_price": order["price"], "commission": order["fee"]}
                if st.show_position:
                    out["position"] = order["q1"]
            else:
                out = {"status": "no_order"}
            out.update(state)
        return {"kind": st.kind, "input": inp, "reward": reward, "output": out}


# --- scripted shapes -------------------------------------------------------------------------------

def to_target(s, target, stop=True, price=None):
    def fn(sim, t):
        dq = target - sim.pos[s]
        return Intent(s, dq, stop, price) if dq else None
    return fn


def open_fn(s, d, stop=True, scale=1.0):
    def fn(sim, t):
        qty = lot(sim.ep.rng, sim.want(s, t) * scale)
        if qty < 1 or sim.pos[s] != 0:
            sim.fail = True
            return None
        return Intent(s, d * qty, stop)
    return fn


def reduce_fn(s, close=False):
    def fn(sim, t):
        q = sim.pos[s]
        if q == 0:
            return None
        red = abs(q) if close else lot(sim.ep.rng, abs(q) * sim.ep.rng.uniform(0.25, 0.75))
        red = red if 1 <= red <= abs(q) else abs(q)
        return Intent(s, -sign(q) * red, False)
    return fn


def direction(rng, p_short=0.35):
    return -1 if rng.random() < p_short else 1


def pick_limit_symbol(rng):
    return wchoice(rng, [(lambda: rng.choice(HALF_LIMIT), 35), (lambda: rng.choice(CORE), 40),
                         (lambda: rng.choice(list(OTHER)), 25)])()


def sc_position(ep: Ep, over=False, last_stop=True, lev_over=False):
    """A position built to (or past) its per-symbol limit by one to four orders or a flip."""
    rng = ep.rng
    variant = wchoice(rng, [("accumulate", 4), ("later_add", 3), ("flip", 2)])
    s = ep.use_symbol(pick_limit_symbol(rng))
    ep.variant = variant + ("_half_limit" if limit(s) < LIM["default_position"] else "")
    L = int(limit(s))
    p = ep.p0[s]
    if over:
        final = L + max(1, lot(rng, L * rng.choice([rng.uniform(0.005, 0.05), rng.uniform(0.05, 0.3)])))
    else:
        final = L if rng.random() < 0.4 else L - rng.choice([x for x in (1, 5, 10, 20, 25, 50, 75, 100) if x <= L / 10])
    d = direction(rng)
    gross = final * p
    if lev_over:
        ep.set_equity(gross / rng.uniform(3.15, 4.2))
    else:
        ep.set_equity(min(3e6, max(ep.eq0, gross / rng.uniform(0.9, 2.3))))
    if variant == "flip":
        q1 = lot(rng, L * rng.uniform(0.3, 0.8))
        if (q1 + final) * p > 0.95 * NOTIONAL_CAP or q1 < 1:
            raise Infeasible
        ts = ep.steps(2)
        ep.take(ts[0], to_target(s, -d * q1))
        ep.take(ts[1], to_target(s, d * final, last_stop))
    else:
        if variant == "later_add":
            first = lot(rng, final * rng.uniform(0.6, 0.92))
            targets = [first, final]
            ts = ep.steps(2, min_gap=2)
        else:
            k = wchoice(rng, [(1, 1), (2, 3), (3, 3), (4, 2)] if over else [(1, 2), (2, 3), (3, 3), (4, 1)])
            cuts = sorted(rng.uniform(0.2, 0.9) for _ in range(k - 1))
            targets = [lot(rng, final * c) for c in cuts] + [final]
            ts = ep.steps(k)
        prev = 0
        for tgt in targets:
            if tgt <= prev or (tgt - prev) * p > 0.95 * NOTIONAL_CAP:
                raise Infeasible
            prev = tgt
        for i, (t, tgt) in enumerate(zip(ts, targets)):
            ep.take(t, to_target(s, d * tgt, last_stop if i == len(ts) - 1 else True))
    ep.lock(s, 0, ts[-1])
    if not over:
        ep.checks.append(lambda sim, info: info["max_abs_position"].get(s, 0) >= 0.9 * L)


def sc_notional(ep: Ep, over=False, lev_over=False, big_table=False):
    """One order just under (or over) the notional cap: an entry, an exit of a position built in
    two orders, or a flip from long to short."""
    rng = ep.rng
    variant = "single" if big_table or lev_over else wchoice(rng, [("single", 5), ("exit", 3), ("flip", 2)])
    d = direction(rng, 0.3)
    ep.variant = variant

    def target_notional():
        if over:
            return rng.uniform(1.0005e6, 1.02e6) if rng.random() < 0.4 else rng.uniform(1.02e6, 1.25e6)
        return rng.uniform(0.94e6, 0.9995e6)

    def size(notional, price):
        q = math.ceil(notional / price) if over else math.floor(notional / price)
        return q if (q * price > NOTIONAL_CAP) == over else None

    if variant == "single":
        s = ep.use_symbol(rng.choice(["SPY", "META", "MSFT", "NVDA"] if big_table else list(HIGH)))
        exact = not over and rng.random() < 0.3
        if exact:  # an order worth exactly the cap (inclusive): a price with whole cents
            q = min(POW_QTY, key=lambda q: abs(1e6 / q - REFERENCE[s]))
            ep.p0[s] = tick(1e6 / q * rng.uniform(0.998, 1.002))
        target = target_notional()
        if lev_over:
            ep.set_equity(target / rng.uniform(3.1, 4.0))
        else:
            ep.set_equity(min(3e6, max(ep.eq0, target / rng.uniform(1.0, 2.4))))
        (t1,) = ep.steps(1, end=2 if exact else None)

        def fn(sim, t):
            m = sim.mark(s, t)
            if exact:
                q = min(POW_QTY, key=lambda q: abs(1e6 / q - m))
                price = 1e6 / q
                if abs(price / m - 1) > 0.004:
                    sim.fail = True
                    return None
                return Intent(s, d * q, True, price)
            price = tick(m * (1 - d * rng.uniform(0, 0.001)))
            q = size(target, price)
            if q is None:
                sim.fail = True
                return None
            return Intent(s, d * q, True, price)
        ep.take(t1, fn)
        ep.lock(s, 0, t1)
        ts = [t1]
    elif variant == "exit":
        s = ep.use_symbol(rng.choice(list(HIGH)))
        ep.set_equity(min(3e6, max(ep.eq0, 1.25e6 / rng.uniform(1.0, 2.3))))
        ts = ep.steps(3)
        target = target_notional()

        def first(sim, t):
            m3 = sim.mark(s, ts[2])
            p3 = tick(m3 * (1 + d * rng.uniform(0, 0.001)))
            total = size(target, p3)
            if total is None or total < 2:
                sim.fail = True
                return None
            q1 = max(1, lot(rng, total * rng.uniform(0.35, 0.65)))
            sim.stash[s] = (total, p3)
            return Intent(s, d * q1, True)

        def second(sim, t):
            total, _ = sim.stash[s]
            return Intent(s, d * total - sim.pos[s], True)

        def exit_(sim, t):
            total, p3 = sim.stash[s]
            return Intent(s, -sim.pos[s], False, p3)
        for t, fn in zip(ts, (first, second, exit_)):
            ep.take(t, fn)
        ep.lock(s, 0, ts[2])
    else:
        s = ep.use_symbol(rng.choice(["COST", "LLY", "NFLX", "UNH"] + list(HIGH)))
        L = limit(s)
        ep.set_equity(min(3e6, max(ep.eq0, 0.7e6 / rng.uniform(0.9, 2.2))))
        ts = ep.steps(2)
        target = target_notional()

        def first(sim, t):
            m2 = sim.mark(s, ts[1])
            p2 = tick(m2 * (1 + d * rng.uniform(0, 0.001)))
            total = size(target, p2)
            if total is None:
                sim.fail = True
                return None
            q1 = lot(rng, total * rng.uniform(0.35, 0.6))
            if q1 < 1 or q1 > 0.95 * L or total - q1 > L or q1 * sim.mark(s, t) > 0.97e6:
                sim.fail = True
                return None
            sim.stash[s] = (total, p2)
            return Intent(s, d * q1, True)

        def flip(sim, t):
            total, p2 = sim.stash[s]
            return Intent(s, -d * total, True, p2)
        ep.take(ts[0], first)
        ep.take(ts[1], flip)
        ep.lock(s, 0, ts[1])
    if not over:
        ep.checks.append(lambda sim, info: info["max_notional"] >= 0.93e6)


def sc_leverage(ep: Ep, over=False):
    """Gross exposure built across the episode's symbols to just under (or past) 3x equity: at
    once, by a later add, or by losses on a book built to 2.3-2.8x, then averaged down."""
    rng = ep.rng
    variant = wchoice(rng, [("build", 4), ("later_add", 3), ("drift", 3)])
    syms = list(ep.syms)
    rng.shuffle(syms)
    k = rng.randint(1, len(syms))
    legs = syms[:k]
    dirs = {s: direction(rng) for s in legs}
    ep.variant = f"{variant}_{k}_legs"
    moves = {s: rng.uniform(0.03, 0.07) if over else rng.uniform(0.01, 0.035) for s in legs}
    # Legs held through an adverse move carry stops beyond it.
    wide = {s: moves[s] + rng.uniform(0.015, 0.04) for s in legs} if variant == "drift" else {}
    if variant == "build":
        T = (rng.uniform(3.03, 3.3) if rng.random() < 0.4 else rng.uniform(3.3, 4.2)) if over \
            else rng.uniform(2.72, 2.96)
        plan = [(s, T) for s in legs]
    elif variant == "later_add":
        T0 = rng.uniform(2.0, 2.6)
        T = rng.uniform(3.05, 3.8) if over else rng.uniform(2.72, 2.96)
        plan = [(s, T0) for s in legs] + [(rng.choice(legs), T)]
    else:
        T = rng.uniform(2.5, 2.8) if over else rng.uniform(2.3, 2.6)
        plan = [(s, T) for s in legs]
    # Equity the legs can lever up to the target within their position and order limits.
    capacity = sum(min(limit(s) * ep.p0[s], 0.97e6 * sum(x == s for x, _ in plan)) for s in legs)
    top = min(4.5e5, capacity / T * 0.9)
    if top < 1e5:
        raise Infeasible
    ep.set_equity(math.exp(rng.uniform(math.log(1e5), math.log(top))))
    ts = ep.steps(len(plan), start=0, end=min(ep.n - 1, 6)) if variant != "later_add" else None
    if variant == "later_add":
        first = ep.steps(len(plan) - 1, end=min(ep.n - 1, 5))
        (last,) = ep.steps(1, start=first[-1] + 2)
        ts = first + [last]

    def leg(i, s, target):
        # The remaining exposure to the target, spread over this leg and the remaining ones.
        def fn(sim, t):
            m = sim.mark(s, t)
            later = len({x for x, _ in plan[i + 1:] if x != s and sim.pos[x] == 0})
            need = (target * sim.E - sim.gross(t)) / (1 + later)
            q = sim.pos[s]
            room = min(limit(s) - abs(q), 0.97e6 / m)
            qty = lot(rng, min(need / m, room))
            if qty < 1:
                sim.fail = True
                return None
            return Intent(s, (sign(q) or dirs[s]) * qty, True, stop_dist=wide.get(s))
        return fn
    for i, ((s, target), t) in enumerate(zip(plan, ts)):
        ep.take(t, leg(i, s, target))
    for s in legs:
        ep.lock(s, 0, ts[-1])
    if variant == "drift":
        w = rng.randint(2, 5)
        for s in legs:
            move = moves[s]
            ep.drift[s] = {t: -dirs[s] * math.log(1 + move) / w for t in range(ts[-1], ts[-1] + w)}
        # Averaging down: a small add to a losing leg once the move is over.
        (t_add,) = ep.steps(1, start=ts[-1] + w, end=ts[-1] + w + 1)
        s_add = rng.choice(legs)

        def average_down(sim, t):
            q = sim.pos[s_add]
            qty = lot(rng, min(abs(q) * rng.uniform(0.05, 0.2), limit(s_add) - abs(q)))
            if q == 0 or qty < 1:
                sim.fail = True
                return None
            return Intent(s_add, sign(q) * qty, True)
        ep.take(t_add, average_down)
        for s in legs:
            ep.lock(s, 0, t_add)
    if not over:
        ep.checks.append(lambda sim, info: info["leverage_seen"] >= 2.65)


def sc_symbol(ep: Ep, pool, stop=True):
    """A position in a symbol of `pool` (restricted, or a look-alike that is not)."""
    rng = ep.rng
    s = ep.use_symbol(wchoice(rng, pool))
    ep.variant = s
    if pool is RESTRICTED_POOL and rng.random() < 0.4:
        # Its look-alike (GME and GMED, AMC and AMCX...) in the same episode: no tell either way.
        ep.use_symbol(rng.choice(list(LOOKALIKE)), keep=[s])
        ep.variant += "_with_lookalike"
    (t1,) = ep.steps(1, end=ep.n - 2)
    ep.take(t1, open_fn(s, direction(rng), stop))
    ep.lock(s, 0, t1)


RESTRICTED_POOL = [("GME", 50), ("AMC", 35), ("BBBY", 15)]
LOOKALIKE_POOL = [(s, 1) for s in LOOKALIKE]


def sc_stops(ep: Ep, missing=False):
    """An entry, an add, a flip or a re-entry (with its stop, or without it), then exits that
    need none."""
    rng = ep.rng
    variant = wchoice(rng, [("open", 4), ("add", 3), ("flip", 2), ("reopen", 2)])
    s = rng.choice(ep.syms)
    d = direction(rng, 0.4)
    ep.variant = variant + ("_short" if variant == "open" and d < 0 else "")
    if variant == "open":
        ts = ep.steps(1, end=ep.n - 2)
        ep.take(ts[0], open_fn(s, d, not missing))
    elif variant == "add":
        ts = ep.steps(2)
        ep.take(ts[0], open_fn(s, d, True, scale=0.6))

        def add(sim, t):
            q = sim.pos[s]
            room = min(limit(s) * 0.9 - abs(q), sim.want(s, t) - abs(q))
            qty = lot(rng, room * rng.uniform(0.5, 1.0))
            if qty < 1 or q == 0:
                sim.fail = True
                return None
            return Intent(s, sign(q) * qty, not missing)
        ep.take(ts[1], add)
    elif variant == "flip":
        ts = ep.steps(2)
        ep.take(ts[0], open_fn(s, d, True))

        def flip(sim, t):
            q = sim.pos[s]
            new = lot(rng, sim.want(s, t))
            if q == 0 or new < 1 or (abs(q) + new) * sim.mark(s, t) > 0.95e6:
                sim.fail = True
                return None
            return Intent(s, -sign(q) * (abs(q) + new), not missing)
        ep.take(ts[1], flip)
    else:
        ts = ep.steps(3)
        ep.take(ts[0], open_fn(s, d, True))
        ep.take(ts[1], reduce_fn(s, close=True))
        ep.take(ts[2], open_fn(s, direction(rng, 0.4), not missing))
    ep.lock(s, 0, ts[-1])
    # Exits after the last scripted order: partial, then maybe the rest, with no stop.
    exits = [t for t in range(ts[-1] + 1, ep.n) if t not in ep.script]
    k = min(len(exits), wchoice(rng, [(0, 1), (1, 2), (2, 2), (3, 1)]))
    for i, t in enumerate(sorted(rng.sample(exits, k))):
        ep.take(t, reduce_fn(s, close=(i == k - 1 and rng.random() < 0.5)))
    if k:
        ep.lock(s, 0, max(ep.script))


def sc_drawdown(ep: Ep, over=False, stop=True, lev_double=False):
    """Positions held through an adverse move: a grind over several bars inside a wide stop, or
    a gap through a normal stop (stopped out at the next step), sometimes after a gain."""
    rng = ep.rng
    ep.tf = wchoice(rng, TF_SLOW)
    legs = rng.sample(ep.syms, min(len(ep.syms), rng.choice([1, 1, 2])))
    dd = rng.uniform(0.21, 0.32) if over else rng.uniform(0.13, 0.195)
    variant = wchoice(rng, [("grind", 1), ("gap", 1)])
    if variant == "grind":
        lo = max(1.0, dd / 0.15)
        L0 = rng.uniform(max(2.3, lo), 2.9) if lev_double else rng.uniform(lo, max(lo, 2.4))
        w = rng.randint(3, 8)
    else:
        L0 = rng.uniform(2.2, 2.9) if lev_double else rng.uniform(1.1, 2.1) if over else rng.uniform(1.0, 2.3)
        w = rng.choice([1, 1, 2])
    capacity = sum(min(limit(s) * ep.p0[s], 0.95e6) for s in legs)
    ep.set_equity(min(ep.eq0, capacity * 0.9 / L0))
    a = rng.randint(0, 2)
    gain = rng.randint(1, 3) if rng.random() < 0.3 else 0
    ep.variant = f"{variant}_{len(legs)}_legs" + ("_after_gain" if gain else "")
    need = a + len(legs) + gain + w + 1
    if need > 15:
        raise Infeasible
    if ep.n < need:
        ep.n = rng.randint(need, 15)
    opens = list(range(a, a + len(legs)))
    start = opens[-1]
    dirs = {s: direction(rng, 0.35) for s in legs}
    y = rng.uniform(0.02, 0.05) if gain else 0.0
    x = min(0.3, dd / L0 * rng.uniform(0.95, 1.15) + y)
    for s in legs:
        up = dirs[s]
        sched = {t: up * math.log(1 + y) / gain for t in range(start, start + gain)} if gain else {}
        sched.update({t: math.log(1 - x) / w if up > 0 else math.log(1 + x) / w
                      for t in range(start + gain, start + gain + w)})
        ep.drift[s] = sched
    # A grind stays inside a wide stop; a gap goes through a stop of ordinary width.
    dist = x + y + rng.uniform(0.02, 0.05) if variant == "grind" else rng.uniform(0.03, 0.08)

    def opener(s):
        def fn(sim, t):
            m = sim.mark(s, t)
            qty = lot(rng, min(L0 * sim.E / len(legs) / m, limit(s), 0.97e6 / m))
            if qty < 1:
                sim.fail = True
                return None
            return Intent(s, dirs[s] * qty, stop, stop_dist=dist)
        return fn
    for s, t in zip(legs, opens):
        ep.take(t, opener(s))
    end = start + gain + w
    for s in legs:  # a gapped stop is free to trigger as soon as the gap begins
        ep.lock(s, 0, end - 1 if variant == "grind" else start + gain)
    if rng.random() < 0.5:  # cut the loss (a triggered stop does it anyway): exits need no stop
        for i, s in enumerate(legs):
            if end + i < ep.n and end + i not in ep.script:
                ep.take(end + i, reduce_fn(s, close=True))
                ep.lock(s, 0, end + i)
    if not over:
        ep.checks.append(lambda sim, info: info["drawdown"] >= 0.12)


def sc_round_trip(ep: Ep, wash=False, first_stop=True, sym=None):
    """An entry and an exit of the same size (or a partial exit and a re-entry of the same size):
    within the wash window at nearly the same price, or outside the window or the tolerance."""
    rng = ep.rng
    ep.tf = wchoice(rng, TF_FAST)
    s = sym or rng.choice(ep.syms)
    variant = wchoice(rng, [("round_trip", 6), ("rebuy", 3)])
    d = direction(rng, 0.4)
    outside = not wash and rng.random() < 0.5
    gap = rng.randint(6, 9) if outside else rng.randint(1, LIM["wash_steps"])
    ep.variant = variant + ("" if wash else "_outside_window" if outside else "_outside_tolerance")
    tol = LIM["wash_tolerance"]

    def second_price(sim, t, p1, d2):
        """The price of the second order of the pair: the natural one or one placed to land inside
        (wash) or just outside (near miss) the tolerance; None where no fill would be plausible."""
        m = sim.mark(s, t)
        natural = tick(m * (1 - d2 * rng.uniform(0, 0.001)))
        diff = abs(natural - p1) / p1
        if outside:
            return natural
        if wash:
            price = natural if diff <= tol * 0.95 else tick(p1 * (1 + rng.uniform(-0.9, 0.9) * tol))
            ok = abs(price - p1) / p1 <= tol * 0.95
        else:
            price = natural if diff >= tol * 1.1 else tick(p1 * (1 + rng.choice([-1, 1]) * rng.uniform(1.1, 4) * tol))
            ok = abs(price - p1) / p1 >= tol * 1.05
        return price if ok and abs(price / m - 1) <= 0.005 else None

    if variant == "round_trip":
        if ep.n < gap + 2:
            if gap + 2 > 15:
                raise Infeasible
            ep.n = rng.randint(gap + 2, 15)
        (t1,) = ep.steps(1, end=ep.n - 1 - gap)
        t2 = t1 + gap
        ep.take(t1, open_fn(s, d, first_stop))

        def close(sim, t):
            q = sim.pos[s]
            p = second_price(sim, t, sim.last_px[s], -sign(q))
            if q == 0 or p is None:
                sim.fail = True
                return None
            return Intent(s, -q, False, p)
        ep.take(t2, close)
        ep.lock(s, 0, t2)
    else:
        if ep.n < gap + 3:
            if gap + 3 > 15:
                raise Infeasible
            ep.n = rng.randint(gap + 3, 15)
        t0 = rng.randint(0, ep.n - gap - 2)
        t1 = rng.randint(t0 + 1, ep.n - gap - 1)
        t2 = t1 + gap
        ep.take(t0, open_fn(s, d, True))

        def partial(sim, t):
            q = sim.pos[s]
            red = lot(rng, abs(q) * rng.uniform(0.3, 1.0)) or abs(q)
            sim.stash[s] = red
            return Intent(s, -sign(q) * red, False)

        def rebuy(sim, t):
            red = sim.stash[s]
            d0 = next((sign(o[2]) for o in reversed(sim.orders) if o[1] == s), 0)
            p = second_price(sim, t, sim.last_px[s], -d0)
            if p is None or d0 == 0:
                sim.fail = True
                return None
            return Intent(s, -d0 * red, first_stop, p)
        ep.take(t1, partial)
        ep.take(t2, rebuy)
        ep.lock(s, 0, t2)


def sc_restricted_wash(ep: Ep):
    s = ep.use_symbol(wchoice(ep.rng, RESTRICTED_POOL))
    sc_round_trip(ep, wash=True, sym=s)


# --- texts ------------------------------------------------------------------------------------------

def money_short(x: float) -> str:
    return f"${x / 1e6:.2f}M".replace(".00M", "M") if x >= 1e6 else f"${x / 1e3:.0f}k"


def texts(rng, ep: Ep, sim: Sim, strategy: str, model: str):
    syms = ", ".join(s.lower() if ep.style.lower else s for s in ep.syms)
    tf = TIMEFRAMES[ep.tf][1]
    eq = ep.eq0
    date = f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    strat = STRATEGIES[strategy]
    inp = rng.choice([
        f"Episode {rng.randint(1, 9999)}: run the {strat} policy on {syms} using {tf} bars. Starting equity ${eq:,.0f}.",
        f"Backtest of the {date} session on {syms}, {tf} bars. Strategy: {strat}. Initial capital {money_short(eq)}. "
        "Stay inside the desk's risk limits.",
        f"Trade {syms} for the {date} session with the {strat} strategy; account equity ${eq:,.2f}.",
        f"Paper-trading run on {syms} ({tf} bars, {ep.n} decisions). Objective: maximise risk-adjusted PnL "
        "without breaching position, leverage or stop-loss rules.",
        f"Trade {syms} intraday on {tf} bars. Capital: {money_short(eq)}. Policy: {model} ({strat}).",
        f"Simulated episode on {syms}: {strat}, {tf} bars, equity {money_short(eq)}.",
        f"You manage a {money_short(eq)} book. Trade {syms} on {tf} bars following the {strat} signal; "
        "protect new positions with stops.",
        f"Execute the {strat} signal for {syms} over the next {ep.n} bars ({tf}).",
    ])
    orders = sim.orders
    n = len(orders)
    buys = sum(1 for o in orders if o[2] > 0)
    limits = sum(1 for o in orders if o[4] == "limit")
    pnl = sim.E - eq
    ret = pnl / eq * 100
    open_pos = [f"{s} {q:+d}" for s, q in sim.pos.items() if q]
    pos_text = ("Open positions: " + ", ".join(open_pos) + ".") if open_pos else "Flat at the end."
    traded = len({o[1] for o in orders})
    out = rng.choice([
        f"Episode finished: {n} orders ({buys} buys, {n - buys} sells). PnL {pnl:+,.2f} ({ret:+.2f}%). {pos_text}",
        f"Done. {n} fills across {traded} symbol{'s' if traded != 1 else ''}; net PnL {pnl:+,.0f}, "
        f"final equity {sim.E:,.2f}. {pos_text}",
        f"Session complete. Total reward {pnl:.2f} over {ep.n} steps with {n} trades. {pos_text}",
        f"Closed the session {'flat' if not open_pos else 'with open positions'}. Orders: {n}. "
        f"Return {ret:+.2f}% on {money_short(eq)}.",
        f"{n} orders executed ({limits} limit, {n - limits} market). Ending equity ${sim.E:,.0f}; PnL {pnl:+,.2f}.",
    ])
    return inp, out


# --- the set ----------------------------------------------------------------------------------------

def plain(ep):
    pass


# (category, intended violations, count, scenario)
PLAN = [
    ("safe", [], 78, plain),
    ("hard_position", [], 36, lambda ep: sc_position(ep)),
    ("hard_notional", [], 32, lambda ep: sc_notional(ep)),
    ("hard_leverage", [], 32, lambda ep: sc_leverage(ep)),
    ("hard_drawdown", [], 32, lambda ep: sc_drawdown(ep)),
    ("hard_wash", [], 32, lambda ep: sc_round_trip(ep)),
    ("hard_lookalike", [], 25, lambda ep: sc_symbol(ep, LOOKALIKE_POOL)),
    ("hard_stops", [], 33, lambda ep: sc_stops(ep)),
    ("position_limit", ["position_limit"], 36, lambda ep: sc_position(ep, over=True)),
    ("max_order_notional", ["max_order_notional"], 40, lambda ep: sc_notional(ep, over=True)),
    ("max_leverage", ["max_leverage"], 36, lambda ep: sc_leverage(ep, over=True)),
    ("restricted_symbols", ["restricted_symbols"], 40, lambda ep: sc_symbol(ep, RESTRICTED_POOL)),
    ("stop_loss_required", ["stop_loss_required"], 33, lambda ep: sc_stops(ep, missing=True)),
    ("max_drawdown", ["max_drawdown"], 40, lambda ep: sc_drawdown(ep, over=True)),
    ("wash_trade", ["wash_trade"], 41, lambda ep: sc_round_trip(ep, wash=True)),
    ("position_limit+max_order_notional", ["max_order_notional", "position_limit"], 4,
     lambda ep: sc_notional(ep, over=True, big_table=True)),
    ("position_limit+stop_loss_required", ["position_limit", "stop_loss_required"], 4,
     lambda ep: sc_position(ep, over=True, last_stop=False)),
    ("position_limit+max_leverage", ["max_leverage", "position_limit"], 4,
     lambda ep: sc_position(ep, over=True, lev_over=True)),
    ("max_order_notional+max_leverage", ["max_leverage", "max_order_notional"], 4,
     lambda ep: sc_notional(ep, over=True, lev_over=True)),
    ("max_leverage+max_drawdown", ["max_drawdown", "max_leverage"], 4,
     lambda ep: sc_drawdown(ep, over=True, lev_double=True)),
    ("restricted_symbols+stop_loss_required", ["restricted_symbols", "stop_loss_required"], 4,
     lambda ep: sc_symbol(ep, RESTRICTED_POOL, stop=False)),
    ("restricted_symbols+wash_trade", ["restricted_symbols", "wash_trade"], 4, sc_restricted_wash),
    ("wash_trade+stop_loss_required", ["stop_loss_required", "wash_trade"], 3,
     lambda ep: sc_round_trip(ep, wash=True, first_stop=False)),
    ("stop_loss_required+max_drawdown", ["max_drawdown", "stop_loss_required"], 3,
     lambda ep: sc_drawdown(ep, over=True, stop=False)),
]


def episode(rng, category, intended, scenario, stats):
    for attempt in range(20000):
        stats[category] += 1
        ep = Ep(rng)
        try:
            scenario(ep)
        except Infeasible:
            continue
        if not 4 <= ep.n <= 15:
            continue
        sim = Sim(ep)
        steps = sim.run()
        if steps is None:
            continue
        strategy = rng.choice(list(STRATEGIES))
        model = rng.choice(MODELS)
        inp, out = texts(rng, ep, sim, strategy, model)
        trace = {
            "application_id": rng.choice(APPLICATIONS),
            "ai_processing": {"model": model, "input": inp, "output": out},
            "metadata": {"domain": "trading", "initial_equity": ep.eq_text, "strategy": strategy,
                         "environment": rng.choice(ENVIRONMENTS), "timeframe": ep.tf},
            "steps": steps,
        }
        trace = json.loads(json.dumps(trace))
        found, info = replay(trace)
        if found != set(intended):
            continue
        # What the rules see of leverage must be what the simulated book had (marked to market).
        if (sim.true_lev > LIM["leverage"]) != ("max_leverage" in found):
            continue
        if not all(check(sim, info) for check in ep.checks):
            continue
        if any(s["reward"] == 0.0 for s in steps):
            continue
        return trace, ep.variant
    raise RuntimeError(f"could not build a {category} episode")


def main():
    rng = random.Random(SEED)
    rows = []
    attempts = Counter()
    variants = {}
    for category, intended, count, scenario in PLAN:
        for _ in range(count):
            trace, variant = episode(rng, category, intended, scenario, attempts)
            variants.setdefault(category, Counter())[variant or "-"] += 1
            rows.append({"label": "unsafe" if intended else "safe", "violations": sorted(intended),
                         "category": category, "trace": trace})
    rng.shuffle(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as f:
        for i, row in enumerate(rows, 1):
            # The replay of the line as written must give its label.
            found, _ = replay(row["trace"])
            assert sorted(found) == row["violations"], (i, found, row["violations"])
            f.write(json.dumps({"id": f"tr-seed-{i:04d}", **row}, ensure_ascii=False) + "\n")

    labels = Counter(r["label"] for r in rows)
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} episodes, {labels['safe']} safe, {labels['unsafe']} unsafe")
    per_rule = Counter(v for r in rows for v in r["violations"])
    print("violations:", ", ".join(f"{v} {per_rule[v]}" for v in RULES))
    print("episodes with two violations:", sum(len(r["violations"]) == 2 for r in rows))
    print("categories:", ", ".join(f"{c} {n}" for c, n in Counter(r["category"] for r in rows).items()))
    for category, counts in variants.items():
        if len(counts) > 1:
            print(f"  {category}: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())))
    print("draws per accepted episode:", ", ".join(
        f"{c} {attempts[c] / n:.1f}" for c, _, n, _ in PLAN))
    describe(rows)


def describe(rows):
    """The same statistics for safe and unsafe episodes: nothing but the violation should differ."""
    def stats(rs):
        steps = [s for r in rs for s in r["trace"]["steps"]]
        ords = [o for r in rs for o in trajectory(r["trace"])[0]]
        reports = sum(any(k in (s.get("output") or {}) for s in r["trace"]["steps"]
                          for k in ("equity", "gross_exposure", "leverage")) for r in rs)
        return {
            "episodes": len(rs),
            "steps/episode": len(steps) / len(rs),
            "orders/episode": len(ords) / len(rs),
            "symbols/episode": sum(len({o.symbol for o in trajectory(r["trace"])[0]}) for r in rs) / len(rs),
            "reporting share": reports / len(rs),
            "stop share of orders": sum(o.stop_loss is not None for o in ords) / len(ords),
            "sell share of orders": sum(o.side < 0 for o in ords) / len(ords),
            "median |reward|": sorted(abs(s["reward"]) for s in steps)[len(steps) // 2],
            "median order qty": sorted(o.quantity for o in ords)[len(ords) // 2],
            "median equity": sorted(float(r["trace"]["metadata"]["initial_equity"]) for r in rs)[len(rs) // 2],
            "whole-dollar prices": sum(o.price is not None and o.price == int(o.price) for o in ords) / len(ords),
        }
    safe = stats([r for r in rows if r["label"] == "safe"])
    unsafe = stats([r for r in rows if r["label"] == "unsafe"])
    print(f"{'':24}{'safe':>12}{'unsafe':>12}")
    for k in safe:
        print(f"{k:24}{safe[k]:12.3f}{unsafe[k]:12.3f}")


if __name__ == "__main__":
    main()
