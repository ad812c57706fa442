"""The families part: every model of the repository on the platform against the
reference platform."""
from .common import (FAILED, OK, REPORTED, SKIPPED, TOLERANCE, Budget, Check, displaced, is_export, label,
                     relative_errors, short_error, structure)
from .contexts import energy_forces, model_context, model_parameters, precision_properties

__all__ = ["check_families", "families_check"]

def check_families(models, root, pdb, platform, reference, precisions, budget_s, say=print):
    """Each model on `platform` (at each precision) against `reference` at 192 atoms,
    displaced from the PDB.  Rows: dicts (model, precision, energy, energy_error,
    force_error, status, note); and {path: whether it ran on `platform`}."""
    data = displaced(structure(pdb, 1), 0.003, seed=11)
    atoms = len(data.positions)
    budget = Budget(budget_s)
    rows, runs = [], {}
    say(f"\n## Model families: {platform} against {reference}, {atoms} atoms (displaced water)")
    say("| model | precision | E (kJ/mol) | rel. energy error | max dF / max F | result |")
    say("|---|---|---:|---:|---:|---|")

    def add(row):
        rows.append(row)
        numbers = [f"{row['energy']:.6f}" if row.get("energy") is not None else "-"]
        numbers += [f"{row[k]:.1e}" if row.get(k) is not None else "-" for k in ("energy_error", "force_error")]
        result = row["status"] + (f": {row['note']}" if row.get("note") else "")
        say(f"| {row['model']} | {row.get('precision') or '-'} | " + " | ".join(numbers) + f" | {result} |")

    for path in models:
        name = label(path, root)
        if not budget.fits():
            add(dict(model=name, status=SKIPPED, note=f"{budget} spent"))
            continue
        # A .pt2 that does not run is reported, not failed: it is compiled for its exporter's machine.
        failure = REPORTED if is_export(path) else FAILED
        try:
            frame, atomic = model_parameters(path, atoms)
            expected = energy_forces(model_context(path, data, reference, None, frame, atomic))
        except Exception as error:   # noqa: BLE001 (reported in the table)
            add(dict(model=name, status=failure, note=f"not run on {reference}: {short_error(error)}"))
            continue
        for precision in precisions if precision_properties(platform, precisions[0]) else [None]:
            row = dict(model=name, precision=precision, energy=expected[0])
            try:
                context = model_context(path, data, platform, precision, frame, atomic)
                got = energy_forces(context)
                del context
            except Exception as error:   # noqa: BLE001
                runs[path] = runs.get(path, False)
                add(dict(row, status=failure, note=f"not run on {platform}: {short_error(error)}"))
                continue
            runs[path] = True
            row["energy_error"], row["force_error"] = relative_errors(expected, got)
            good = row["energy_error"] <= TOLERANCE["energy"] and row["force_error"] <= TOLERANCE["forces"]
            add(dict(row, status=OK if good else FAILED))
    return rows, runs


def families_check(rows, platform, reference):
    """The summary line of :func:`check_families`' rows."""
    measured = [r for r in rows if r.get("energy_error") is not None]
    failed = [r for r in rows if r["status"] == FAILED]
    reported = [r for r in rows if r["status"] == REPORTED]
    skipped = [r for r in rows if r["status"] == SKIPPED]
    models = len({r["model"] for r in rows})
    parts = [f"{models} models against {reference}"]
    if measured:
        worst_e = max(measured, key=lambda r: r["energy_error"])
        worst_f = max(measured, key=lambda r: r["force_error"])
        parts.append(f"worst relative errors: energy {worst_e['energy_error']:.1e} ({worst_e['model']}), "
                     f"forces {worst_f['force_error']:.1e} ({worst_f['model']})")
    parts += [f"FAILED {r['model']} {r.get('precision') or ''}: {r.get('note') or 'over the tolerance'}"
              for r in failed]
    parts += [f"{r['model']}: {r['note']}" for r in reported]
    if skipped:
        parts.append(f"{len(skipped)} skipped (time budget)")
    status = FAILED if failed else OK if measured else SKIPPED
    return Check(f"families on {platform}", status, "; ".join(parts))
