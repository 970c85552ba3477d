"""The named column constants of trustsim.metrics point at the columns they name."""

from trustsim import metrics


def test_means_constants_name_their_columns():
    for i, name in enumerate(metrics.MEANS):
        assert getattr(metrics, f"M_{name.upper()}") == i, name


def test_log_constants_name_their_columns():
    for i, name in enumerate(metrics.LOG_COLUMNS):
        assert getattr(metrics, f"L_{name.upper()}") == i, name


def test_no_stray_constants():
    """Every M_/L_ constant belongs to a column (a renamed column leaves none behind)."""
    means = {f"M_{n.upper()}" for n in metrics.MEANS}
    log = {f"L_{n.upper()}" for n in metrics.LOG_COLUMNS}
    for attr in dir(metrics):
        if attr.startswith("M_") and attr != "M_":
            assert attr in means, attr
        if attr.startswith("L_"):
            assert attr in log, attr
