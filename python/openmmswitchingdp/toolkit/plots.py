"""validate's figures: RDFs, MSDs, the energy step by step and the pair's deviation,
one line per scheme.  Every scheme gets its own colour, line style and marker, and
the legend sits outside the axes, so curves that coincide (a guarded run that never
fell back, say) and the legend never hide one another."""
import itertools
import os

from ..units import KJ_PER_MOL_PER_MEV

__all__ = ["styles", "panels", "time_series", "plot"]

LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "v", "D", "x", "+", "*"]


def styles(names):
    """A distinct (colour, line style, marker) per scheme name."""
    import matplotlib.pyplot as plt
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {name: dict(color=colours[i % len(colours)], linestyle=style, marker=marker, markevery=0.1)
            for i, (name, style, marker) in enumerate(zip(names, itertools.cycle(LINE_STYLES),
                                                          itertools.cycle(MARKERS)))}


def _save(figure, out, filename, handles, labels):
    """Legend below the axes, one column per few schemes, then save."""
    figure.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize=8, frameon=False)
    rows = (len(labels) + 2) // 3
    figure.tight_layout(rect=(0, 0.06 * rows + 0.02, 1, 1))
    figure.savefig(os.path.join(out, filename), dpi=120)
    import matplotlib.pyplot as plt
    plt.close(figure)


def panels(out, filename, keys, names, curve, title, xlabel, ylabel):
    """One panel per key (an element pair or an element), one line per scheme;
    curve(name, key) gives the (x, y) to draw."""
    import matplotlib.pyplot as plt
    style = styles(names)
    rows = (len(names) + 2) // 3
    figure, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5 + 0.3 * rows), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name in names:
            ax.plot(*curve(name, key), label=name, lw=1.2, markersize=3, **style[name])
        ax.set_title(title(key))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    _save(figure, out, filename, *axes[0][0].get_legend_handles_labels())


def time_series(out, filename, names, series, xlabel, ylabel, title):
    """One panel, one line per scheme: series(name) -> (times from the start, values)."""
    import matplotlib.pyplot as plt
    style = styles(names)
    rows = (len(names) + 2) // 3
    figure, ax = plt.subplots(figsize=(7, 4 + 0.3 * rows))
    for name in names:
        ax.plot(*series(name), label=name, lw=1, markersize=3, **style[name])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _save(figure, out, filename, *ax.get_legend_handles_labels())


def plot(out, names, pairs, rdfs, msds, raw):
    """rdf.png, msd.png, energy.png and deviation.png in `out` for the stable schemes
    `names`: rdfs/msds from analysis.compare, raw from validate's runs."""
    import matplotlib
    matplotlib.use("Agg")

    def rdf_curve(name, pair):
        r, g = rdfs[name][pair]
        return r * 10, g

    def msd_curve(name, element):
        lag, msd = msds[name][element]
        return lag, msd * 100

    def energy_cycle(name):
        cycle = raw[name]["cycle"]
        return cycle[:, 0] - cycle[0, 0], cycle[:, 1] / KJ_PER_MOL_PER_MEV

    def deviation(name):
        return raw[name]["times"] - raw[name]["times"][0], raw[name]["deviations"][:, 0]

    panels(out, "rdf.png", pairs, names, rdf_curve, "-".join, "r (A)", "g(r)")
    panels(out, "msd.png", list(msds[names[0]]), names, msd_curve, lambda e: f"MSD of {e}", "lag (ps)", "MSD (A^2)")
    time_series(out, "energy.png", names, energy_cycle, "time (fs)", "potential energy reported (meV/atom)",
                "Energy step by step (alternation shows its cycle)")
    time_series(out, "deviation.png", names, deviation, "time (ps)", "max |F_accurate - F_fast| (eV/A)",
                "The pair's force deviation on each scheme's frames")
