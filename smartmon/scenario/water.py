"""The water scenario (三水统筹): section water quality from upstream discharges and flow by mass
balance along each river, and a discharge-cut scenario's classes and chance of meeting targets.

Per river and day, from the most upstream section down (loads in kg/day, flow Q in m3/s):
    L_1 = (Q_1 - q_1) x C_bg x 86.4 + D_1
    L_k = L_{k-1} + D_k + T_k,  T_k = max(Q_k - Q_{k-1} - q_k, 0) x C_bg x 86.4   (tributary inflow)
    C_k [mg/L] = L_k / (Q_k x 86.4)
D_k: what the dischargers draining into section k sent that day (HJ 212 COD, NH3-N, TP), q_k their
wastewater (m3/s); C_bg: the concentration of natural inflow (BACKGROUND, assumed class II water).
Conservative (no decay between sections): the balance L_k - L_{k-1} = D_k + T_k holds exactly, and
is checked in the tests. The class of a section is the worst of its parameters (GB 3838).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smartmon.standards.water import water_class

PARAMETERS = ("cod", "nh3n", "tp")
BACKGROUND = {"cod": 10.0, "nh3n": 0.3, "tp": 0.05}  # mg/L of headwater and tributary inflow (assumed)
CLASS_OF = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def balance(sections: pd.DataFrame, flow: pd.DataFrame, discharge: pd.DataFrame) -> pd.DataFrame:
    """Loads and concentrations per section and day.

    sections: section_id, river, seq; flow: section_id, date, flow_m3s; discharge: section_id, date,
    cod, nh3n, tp (kg/day), wastewater_m3 (m3/day). Returns section_id, date, flow, inflow terms,
    load_<p>, tributary_<p>, discharge_<p>, conc_<p>."""
    d = discharge.groupby(["section_id", "date"], as_index=False)[[*PARAMETERS, "wastewater_m3"]].sum()
    df = flow.merge(sections[["section_id", "river", "seq"]], on="section_id").merge(d, on=["section_id", "date"], how="left")
    df = df.fillna({p: 0.0 for p in (*PARAMETERS, "wastewater_m3")}).sort_values(["river", "date", "seq"]).reset_index(drop=True)
    q = df["flow_m3s"].to_numpy()
    ww = df["wastewater_m3"].to_numpy() / 86400
    first = df.groupby(["river", "date"])["seq"].transform("min").to_numpy() == df["seq"].to_numpy()
    q_up = np.where(first, 0.0, np.roll(q, 1))
    inflow = np.clip(q - q_up - ww, 0, None)
    df["tributary_m3s"] = inflow
    for p in PARAMETERS:
        trib = inflow * BACKGROUND[p] * 86.4
        disc = df[p].to_numpy()
        # loads add up from the most upstream section of each river and day (rows are in seq order)
        load = pd.Series(disc + trib, index=df.index).groupby([df["river"], df["date"]]).cumsum().to_numpy()
        df[f"tributary_{p}"], df[f"discharge_{p}"], df[f"load_{p}"] = trib, disc, load
        df[f"conc_{p}"] = load / (q * 86.4)
    return df


def section_class(conc: dict[str, float]) -> int | None:
    classes = [water_class(p, v) for p, v in conc.items()]
    classes = [c for c in classes if c is not None]
    return max(classes) if classes else None
