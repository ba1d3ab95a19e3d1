"""Calibrators: turn raw scores into probabilities that match observed frequencies.

Two targets, one API
--------------------
confnb calibrates one of two things; the calibrators do not care which, but you must:

**confidence** (the course's main thread)
    scores = ``total_probability`` of the predicted class, ``y_true`` = ``correct``.
    The calibrated value estimates P(the prediction is correct). It may fall *below
    0.5*: the model still predicts its class (calibration never changes the
    prediction), but history says such predictions are right less than half the time.
    Send them to a human.
**class**
    scores = ``p_positive``, ``y_true`` = (label == positive class). The calibrated value
    estimates P(label is positive); :func:`class_to_confidence` turns it into a
    prediction and the confidence of that prediction.

:func:`calibrated_prediction` is the one rule, for both targets, that turns calibrated
scores into the (prediction, confidence) pairs that ``confnb score --calibrator`` writes
and ``confnb report`` evaluates (it and :func:`class_to_confidence` are defined in
:mod:`confnb.predictions` and re-exported here).

Every calibrator has the scikit-learn shape: ``fit(scores, y_true) -> self``,
``predict_proba(scores)``, fitted attributes ending in ``_``. ``predict_proba`` returns
a **1-D** array, the calibrated probability of the positive outcome (y_true = 1) for
each row -- not scikit-learn's two-column array, because the single number is what
every confnb table, chart and CSV column uses. Scores must be probabilities in
[0, 1]; they are clipped to ``[1e-6, 1 - 1e-6]`` before any log-odds are taken.

Honest evaluation: never score a calibrator on the rows it was fit on. Fit on one
split and evaluate on another, or use :func:`cross_calibrate` for out-of-fold scores
when there is only one pool. A calibrator may carry ``fit_rows_``, a fingerprint of the
rows it was fit on (set by :func:`confnb.report.calibrate_scores`, saved with it), so that
reports can detect and refuse in-sample evaluation.

Out of scope: multi-class calibration, histogram binning, beta calibration, and
calibrating raw logits or margins (pass probabilities).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError

from ._validation import TARGETS  # noqa: F401  (re-exported)
from ._validation import as_prob, check_count, check_optional_target, check_pair
from .predictions import calibrated_prediction, class_to_confidence

__all__ = [
    "CALIBRATOR_FORMAT",
    "CALIBRATOR_FORMAT_VERSION",
    "Calibrator",
    "ContextualCalibrator",
    "IsotonicCalibrator",
    "NotFittedError",
    "PlattCalibrator",
    "TemperatureCalibrator",
    "calibrated_prediction",
    "class_to_confidence",
    "cross_calibrate",
    "load_calibrator",
    "make_calibrator",
]

#: Scores are clipped to [SCORE_EPS, 1 - SCORE_EPS] before taking log-odds.
SCORE_EPS = 1e-6
#: Value of the ``format`` field of a saved calibrator.
CALIBRATOR_FORMAT = "confnb.calibrator"
#: Version written by :meth:`confnb.calibration.Calibrator.save`; :func:`load_calibrator` reads versions up to it.
CALIBRATOR_FORMAT_VERSION = 1
#: Below this many rows :class:`IsotonicCalibrator` warns that it is likely to overfit.
ISOTONIC_MIN_ROWS = 500
#: Kinds of row fingerprint a saved calibrator may carry in ``fit_rows``.
FIT_ROW_KINDS = ("text", "scores")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, SCORE_EPS, 1 - SCORE_EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only: no overflow warnings
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _check_two_classes(t: np.ndarray):
    if np.unique(t).shape[0] < 2:
        only = int(t[0])
        raise ValueError(
            f"y_true has a single class (all {only}); a calibrator needs both outcomes to "
            "learn how often a score is right -- use a larger or stratified calibration set"
        )


def _fit_logistic_1d(x: np.ndarray, target: np.ndarray, *, max_iter: int = 100):
    """Maximum-likelihood ``(a, b)`` of ``P = sigmoid(a * x + b)`` for soft targets.

    Newton's method with backtracking line search (the approach of Lin, Lin & Weng 2007
    for Platt scaling): the loss is convex, two parameters need a 2x2 solve per step,
    and it converges in a handful of iterations.
    """

    def loss(a, b):
        z = a * x + b
        return float(np.sum(np.logaddexp(0, z) - target * z))

    a, b = 1.0, 0.0
    current = loss(a, b)
    tol = 1e-10 * max(1.0, float(x.shape[0]))
    for _ in range(max_iter):
        q = _sigmoid(a * x + b)
        r = q - target
        g = np.array([float(r @ x), float(r.sum())])
        if np.max(np.abs(g)) < tol:
            break
        w = q * (1 - q)
        h = np.array([[float(w @ (x * x)), float(w @ x)], [float(w @ x), float(w.sum())]]) + 1e-12 * np.eye(2)
        step = -np.linalg.solve(h, g)
        slope = float(g @ step)
        size = 1.0
        while size > 1e-10:
            na, nb = a + size * step[0], b + size * step[1]
            new = loss(na, nb)
            if new <= current + 1e-4 * size * slope:
                break
            size /= 2
        else:
            break
        a, b, current = na, nb, new
    return float(a), float(b)


class Calibrator:
    """Base class: fitted-state checks, JSON save, a readable ``repr``.

    Subclasses set ``method`` (the name used by :func:`make_calibrator`), implement
    ``fit`` and ``_predict``, and list their fitted attributes in ``_fitted_attrs``.

    Parameters
    ----------
    target : {"confidence", "class"} or None
        What the scores mean, recorded in the saved file so that a calibrator fit on
        confidences is not applied to ``p_positive`` by mistake.
    """

    method: str = ""
    _fitted_attrs: tuple[str, ...] = ()
    #: Fingerprint of the rows the calibrator was fit on (see
    #: :func:`confnb.report.fingerprint_rows`), or None when unknown. ``fit`` resets it; it is
    #: saved and loaded with the calibrator, and is not needed to predict.
    fit_rows_: dict | None = None

    def __init__(self, *, target: str | None = None):
        self.target = check_optional_target(target)

    # -- sklearn-like plumbing -------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` (or :func:`load_calibrator`) has set the fitted attributes."""
        return all(hasattr(self, a) for a in self._fitted_attrs)

    def _check_fitted(self):
        if not self.is_fitted:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit(scores, y_true) first "
                "or load a saved one with load_calibrator(path)"
            )

    def predict_proba(self, scores) -> np.ndarray:
        """Calibrated probability of the positive outcome for each score.

        Parameters
        ----------
        scores : array-like of float in [0, 1]
            Raw scores of the same kind the calibrator was fit on.

        Returns
        -------
        ndarray, shape (n,)
            1-D: P(correct) for the confidence target, P(positive) for the class target.
        """
        self._check_fitted()
        return self._predict(as_prob(scores, "scores"))

    def _predict(self, scores: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _init_params(self) -> dict:
        return {"target": self.target}

    def clone(self):
        """An unfitted copy with the same options."""
        return type(self)(**self._init_params())

    # -- persistence ---------------------------------------------------------------------
    def _get_fitted(self) -> dict:
        return {a: _to_json_value(getattr(self, a)) for a in self._fitted_attrs}

    def _set_fitted(self, params: dict):
        for a in self._fitted_attrs:
            setattr(self, a, params[a])

    def to_dict(self) -> dict:
        """The JSON-ready description written by :meth:`save`."""
        self._check_fitted()
        options = {k: v for k, v in self._init_params().items() if k != "target"}
        out = {
            "format": CALIBRATOR_FORMAT,
            "version": CALIBRATOR_FORMAT_VERSION,
            "class": type(self).__name__,
            "method": self.method,
            "target": self.target,
            "options": options,
            "params": self._get_fitted(),
        }
        if self.fit_rows_ is not None:
            out["fit_rows"] = _check_fit_rows(self.fit_rows_)
        return out

    def save(self, path) -> Path:
        """Write the fitted calibrator as versioned JSON; returns the path.

        Read it back with :func:`load_calibrator`.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._init_params().items() if v is not None)
        state = self._describe_fit() if self.is_fitted else "not fitted"
        return f"{type(self).__name__}({opts}) [{state}]"

    def _describe_fit(self) -> str:  # pragma: no cover - overridden
        return "fitted"


def _check_fit_rows(fit_rows) -> dict:
    """Validate a row fingerprint: ``{"kind", "n", "hashes"}`` (16 hex digits each), ``"columns"`` optional."""
    if not isinstance(fit_rows, dict) or fit_rows.get("kind") not in FIT_ROW_KINDS:
        raise ValueError(f"fit_rows must be a dict with 'kind' one of {FIT_ROW_KINDS}")
    hashes = fit_rows.get("hashes")
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and len(h) == 16 and all(c in "0123456789abcdef" for c in h) for h in hashes
    ):
        raise ValueError("fit_rows 'hashes' must be a list of 16-hex-digit strings")
    n = fit_rows.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < len(hashes):
        raise ValueError("fit_rows 'n' must be the number of rows fit (at least the number of hashes)")
    out = {"kind": fit_rows["kind"], "n": n, "hashes": sorted(set(hashes))}
    if "columns" in fit_rows:  # kind "scores": which score columns were hashed
        columns = fit_rows["columns"]
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
            raise ValueError("fit_rows 'columns' must be a non-empty list of column names")
        out = {"kind": out["kind"], "columns": list(columns), "n": n, "hashes": out["hashes"]}
    return out


def _to_json_value(value):
    if isinstance(value, np.ndarray):
        return [float(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value


class PlattCalibrator(Calibrator):
    """Platt scaling: a logistic regression on the log-odds of the score.

    ``p = sigmoid(coef_ * logit(score) + intercept_)``. Two parameters, so it needs
    few rows and cannot overfit much; it can only bend the scores along an S-curve.
    Fit by maximum likelihood (Newton's method) with Platt's smoothed targets
    (``(n+ + 1)/(n+ + 2)`` and ``1/(n- + 2)``), which keep the fit finite when the
    classes separate perfectly.

    Calibrated confidences may fall below 0.5 -- see the module docstring.

    Attributes
    ----------
    coef_ : float
        Slope on ``logit(score)``; below 1 softens overconfident scores.
    intercept_ : float
        Shift in log-odds.
    n_fit_ : int
        Rows used for fitting.

    Examples
    --------
    >>> cal = PlattCalibrator().fit([0.6, 0.7, 0.8, 0.9, 0.95, 0.99], [0, 1, 0, 1, 1, 1])
    >>> p = cal.predict_proba([0.5, 0.99])
    >>> bool(p[0] < p[1])
    True
    """

    method = "platt"
    _fitted_attrs = ("coef_", "intercept_", "n_fit_")

    def fit(self, scores, y_true):
        """Fit slope and intercept on ``(scores, y_true)``; returns ``self``."""
        t, s = check_pair(y_true, scores, prob_name="scores")
        _check_two_classes(t)
        x = _logit(s)
        n_pos = float(t.sum())
        n_neg = float(t.shape[0] - n_pos)
        target = np.where(t == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        self.coef_, self.intercept_ = _fit_logistic_1d(x, target)
        self.n_fit_ = int(t.shape[0])
        self.fit_rows_ = None
        return self

    def _predict(self, scores):
        return _sigmoid(self.coef_ * _logit(scores) + self.intercept_)

    def _describe_fit(self):
        return f"coef_={self.coef_:.3f}, intercept_={self.intercept_:.3f}, n_fit_={self.n_fit_}"


class IsotonicCalibrator(Calibrator):
    """Isotonic regression: the best non-decreasing step map from score to frequency.

    Flexible (no S-curve assumption) but data-hungry: scikit-learn's documentation
    advises against it with too few calibration rows (<< 1000), and confnb warns below
    ``ISOTONIC_MIN_ROWS`` (500). Scores outside the fitted range are clipped to the
    nearest end; between fitted points the map is linear, as in scikit-learn.

    Attributes
    ----------
    x_thresholds_, y_thresholds_ : ndarray
        The fitted map's knots (saved in the JSON file).
    n_fit_ : int
        Rows used for fitting.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cal = IsotonicCalibrator().fit([0.6, 0.7, 0.8, 0.9], [0, 1, 0, 1])
    >>> cal.predict_proba([0.5, 0.75, 0.99]).tolist()
    [0.0, 0.5, 1.0]
    """

    method = "isotonic"
    _fitted_attrs = ("x_thresholds_", "y_thresholds_", "n_fit_")

    def fit(self, scores, y_true):
        """Fit the monotone map on ``(scores, y_true)``; returns ``self``."""
        from sklearn.isotonic import IsotonicRegression

        t, s = check_pair(y_true, scores, prob_name="scores")
        _check_two_classes(t)
        if t.shape[0] < ISOTONIC_MIN_ROWS:
            warnings.warn(
                f"isotonic calibration on only {t.shape[0]} rows is likely to overfit "
                f"(scikit-learn advises against it well below 1000 rows); prefer "
                "PlattCalibrator or TemperatureCalibrator, or collect more labelled rows",
                UserWarning,
                stacklevel=2,
            )
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(s, t.astype(float))
        self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=float)
        self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=float)
        self.n_fit_ = int(t.shape[0])
        self.fit_rows_ = None
        return self

    def _set_fitted(self, params):
        x = np.asarray(params["x_thresholds_"], dtype=float)
        y = np.asarray(params["y_thresholds_"], dtype=float)
        if x.ndim != 1 or x.shape != y.shape or x.size == 0 or np.any(np.diff(x) < 0):
            raise ValueError("isotonic thresholds must be two equal-length, non-empty lists, x sorted")
        if np.any((y < 0) | (y > 1)) or not np.isfinite(x).all():
            raise ValueError("isotonic y_thresholds_ must lie in [0, 1] and x_thresholds_ be finite")
        self.x_thresholds_, self.y_thresholds_ = x, y
        self.n_fit_ = int(params["n_fit_"])

    def _predict(self, scores):
        return np.interp(scores, self.x_thresholds_, self.y_thresholds_)

    def _describe_fit(self):
        return f"{self.x_thresholds_.shape[0]} knots, n_fit_={self.n_fit_}"


class TemperatureCalibrator(Calibrator):
    """Temperature scaling on the log-odds: ``p = sigmoid(logit(score) / temperature_)``.

    One parameter, fit by minimising the log loss over ``log(temperature)``.
    ``temperature_ > 1`` softens overconfident scores towards 0.5; below 1 sharpens.
    It keeps 0.5 fixed, so a score above 0.5 stays above 0.5: for the confidence
    target it cannot report "right less than half the time" (Platt can).

    Attributes
    ----------
    temperature_ : float
    n_fit_ : int

    Examples
    --------
    >>> cal = TemperatureCalibrator().fit([0.9, 0.9, 0.9, 0.9, 0.1, 0.1], [1, 1, 0, 1, 0, 1])
    >>> bool(cal.temperature_ > 1)
    True
    """

    method = "temperature"
    _fitted_attrs = ("temperature_", "n_fit_")
    #: search range for log(temperature): temperatures from about 0.02 to 55
    log_t_bounds = (-4.0, 4.0)

    def fit(self, scores, y_true):
        """Fit the temperature on ``(scores, y_true)``; returns ``self``."""
        from scipy.optimize import minimize_scalar

        t, s = check_pair(y_true, scores, prob_name="scores")
        _check_two_classes(t)
        x = _logit(s)

        def nll(log_t):
            z = x / math.exp(log_t)
            return float(np.sum(np.logaddexp(0, z) - t * z))

        res = minimize_scalar(nll, bounds=self.log_t_bounds, method="bounded", options={"xatol": 1e-8})
        self.temperature_ = float(math.exp(res.x))
        self.n_fit_ = int(t.shape[0])
        self.fit_rows_ = None
        return self

    def _set_fitted(self, params):
        temperature = float(params["temperature_"])
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature_ must be a positive number; got {temperature!r}")
        self.temperature_ = temperature
        self.n_fit_ = int(params["n_fit_"])

    def _predict(self, scores):
        return _sigmoid(_logit(scores) / self.temperature_)

    def _describe_fit(self):
        return f"temperature_={self.temperature_:.3f}, n_fit_={self.n_fit_}"


class ContextualCalibrator(Calibrator):
    """Contextual calibration (Zhao et al., 2021, "Calibrate Before Use"): no labels needed.

    A prompt can tilt a model towards one class whatever the text. Run *content-free*
    inputs such as ``"N/A"``, ``"[MASK]"`` and ``"-"`` through the same prompt (`confnb.classify`
    refuses empty strings, so the paper's ``""`` is left out); their mean ``p_positive``
    estimates that tilt, the prior ``prior_``. Dividing it out,

        ``p' = (p / prior_) / (p / prior_ + (1 - p) / (1 - prior_))``,

    maps a content-free input to exactly 0.5 and removes a constant bias exactly.

    For the **class** target only (scores are ``p_positive``). It corrects bias, not
    over- or under-confidence; combine with a label-based calibrator if you have labels.
    It assumes a content-free input *should* score 0.5. When the question itself makes "no" the
    right answer for an empty text ("is this positive?"), the estimated prior mixes that correct
    reading with the bias and the correction overshoots: check it on data before relying on it
    (notebook 02 measures exactly this).

    Attributes
    ----------
    prior_ : float
        Mean positive-class probability of the content-free inputs.
    n_fit_ : int
        Number of content-free inputs.

    Examples
    --------
    >>> cal = ContextualCalibrator().fit([0.7, 0.7, 0.7])   # p_positive of "N/A", "[MASK]", "-"
    >>> cal.predict_proba([0.7]).round(6).tolist()
    [0.5]
    """

    method = "contextual"
    _fitted_attrs = ("prior_", "n_fit_")

    def __init__(self, *, target: str | None = "class"):
        super().__init__(target=target)

    def fit(self, scores, y_true=None):
        """Estimate ``prior_`` from content-free scores; returns ``self``.

        Parameters
        ----------
        scores : array-like of float in [0, 1]
            ``p_positive`` of content-free inputs run through the task's prompt.
        y_true : ignored
            Accepted so the call has the same shape as the other calibrators.
        """
        s = as_prob(scores, "scores")
        prior = float(np.mean(np.clip(s, SCORE_EPS, 1 - SCORE_EPS)))
        self.prior_ = prior
        self.n_fit_ = int(s.shape[0])
        self.fit_rows_ = None
        return self

    def _set_fitted(self, params):
        prior = float(params["prior_"])
        if not 0.0 < prior < 1.0:
            raise ValueError(f"prior_ must be strictly between 0 and 1; got {prior!r}")
        self.prior_ = prior
        self.n_fit_ = int(params["n_fit_"])

    def _predict(self, scores):
        a = scores / self.prior_
        b = (1.0 - scores) / (1.0 - self.prior_)
        return a / (a + b)  # a + b > 0 because 0 < prior_ < 1

    def _describe_fit(self):
        return f"prior_={self.prior_:.3f}, n_fit_={self.n_fit_}"


_METHODS = {
    "platt": PlattCalibrator,
    "isotonic": IsotonicCalibrator,
    "temperature": TemperatureCalibrator,
    "contextual": ContextualCalibrator,
}
_CLASSES = {cls.__name__: cls for cls in _METHODS.values()}
#: Methods that learn from labels (usable with :func:`cross_calibrate`).
LABEL_METHODS = ("platt", "isotonic", "temperature")


def make_calibrator(method, *, target: str | None = None) -> Calibrator:
    """A new, unfitted calibrator from its name.

    Parameters
    ----------
    method : {"platt", "isotonic", "temperature", "contextual"} or Calibrator
        A name, or a calibrator instance (an unfitted clone is returned).
    target : {"confidence", "class"} or None
        Recorded on the calibrator and in its saved file.

    Examples
    --------
    >>> make_calibrator("platt", target="confidence")
    PlattCalibrator(target='confidence') [not fitted]
    """
    if isinstance(method, Calibrator):
        cal = method.clone()
        if target is not None:
            cal.target = check_optional_target(target)
        return cal
    key = str(method).lower()
    if key not in _METHODS:
        raise ValueError(f"unknown calibration method {method!r}; choose one of {', '.join(_METHODS)}")
    cls = _METHODS[key]
    if cls is ContextualCalibrator:
        return cls(target=target or "class")
    return cls(target=target)


def load_calibrator(path) -> Calibrator:
    """Read a calibrator written by :meth:`confnb.calibration.Calibrator.save`.

    The optional ``fit_rows`` fingerprint is restored as ``fit_rows_``; files without it
    (older confnb) load with ``fit_rows_ = None``, "fit rows unknown".

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is not JSON, not a confnb calibrator, from an unknown format version,
        names an unknown class, or has missing or invalid parameters.

    Examples
    --------
    >>> import tempfile, os
    >>> cal = PlattCalibrator(target="confidence").fit([0.6, 0.9, 0.7, 0.99], [0, 1, 1, 1])
    >>> path = cal.save(os.path.join(tempfile.mkdtemp(), "cal.json"))
    >>> load_calibrator(path).predict_proba([0.8]).tolist() == cal.predict_proba([0.8]).tolist()
    True
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    where = f"{path}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{where} is not valid JSON ({err.msg}, line {err.lineno}); it may be truncated or "
            "not a calibrator file -- re-create it with `confnb calibrate` or Calibrator.save"
        ) from None
    if not isinstance(data, dict) or data.get("format") != CALIBRATOR_FORMAT:
        raise ValueError(
            f"{where} is not a confnb calibrator file (expected \"format\": \"{CALIBRATOR_FORMAT}\"); "
            "pass a file written by `confnb calibrate` or Calibrator.save"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= CALIBRATOR_FORMAT_VERSION:
        raise ValueError(
            f"{where} has calibrator format version {version!r}, but this confnb reads versions "
            f"1 to {CALIBRATOR_FORMAT_VERSION}; upgrade confnb or re-create the file"
        )
    cls = _CLASSES.get(data.get("class"))
    if cls is None:
        raise ValueError(
            f"{where} names an unknown calibrator class {data.get('class')!r}; "
            f"known: {', '.join(_CLASSES)}"
        )
    params = data.get("params")
    options = data.get("options") or {}
    try:
        cal = cls(**{"target": data.get("target"), **options})
        if not isinstance(params, dict):
            raise ValueError("missing 'params' object")
        missing = [a for a in cls._fitted_attrs if a not in params]
        if missing:
            raise ValueError(f"missing parameter(s) {', '.join(missing)}")
        cal._set_fitted(params)
        for a in cls._fitted_attrs:
            value = getattr(cal, a)
            if not np.all(np.isfinite(np.asarray(value, dtype=float))):
                raise ValueError(f"parameter {a} is not a finite number")
        if data.get("fit_rows") is not None:  # absent from files of older confnb: fit rows unknown
            cal.fit_rows_ = _check_fit_rows(data["fit_rows"])
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"{where} is a damaged {cls.__name__} file: {err}; re-create it") from None
    return cal


def _seed_from(rng) -> int:
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    return int(np.random.default_rng(rng).integers(0, 2**31 - 1))


def cross_calibrate(scores, y_true, method, *, n_splits: int = 5, rng=None) -> np.ndarray:
    """Out-of-fold calibrated scores: every row is calibrated by a model that never saw it.

    The rows are split into ``n_splits`` stratified folds; for each fold a fresh
    calibrator is fit on the other folds and applied to it. Use this when there is only
    one labelled pool and you still want honest (held-out) calibration metrics.

    Parameters
    ----------
    scores : array-like of float in [0, 1]
    y_true : array-like of 0/1
    method : {"platt", "isotonic", "temperature"} or Calibrator
        A name or an (unfitted) calibrator to clone per fold. ``"contextual"`` is
        rejected: it does not learn from labels.
    n_splits : int, default 5
        Number of folds; each class needs at least this many rows.
    rng : int, numpy.random.Generator or None
        Controls the shuffling into folds.

    Returns
    -------
    ndarray, shape (n,)
        Calibrated probabilities in the input order.

    Examples
    --------
    >>> import numpy as np
    >>> gen = np.random.default_rng(0)
    >>> s = gen.uniform(0.5, 1, 200); y = (gen.uniform(size=200) < s - 0.2).astype(int)
    >>> out = cross_calibrate(s, y, "platt", rng=0)
    >>> out.shape
    (200,)
    """
    from sklearn.model_selection import StratifiedKFold

    t, s = check_pair(y_true, scores, prob_name="scores")
    template = make_calibrator(method)
    if template.method not in LABEL_METHODS:
        raise ValueError(
            f"cross_calibrate needs a calibrator that learns from labels ({', '.join(LABEL_METHODS)}); "
            f"got {template.method!r}"
        )
    n_splits = check_count(n_splits, "n_splits", minimum=2)
    _check_two_classes(t)
    smallest = int(min(t.sum(), t.shape[0] - t.sum()))
    if smallest < n_splits:
        raise ValueError(
            f"the smaller class has only {smallest} row(s), fewer than n_splits={n_splits}; "
            "use fewer folds or more labelled rows"
        )
    folds = StratifiedKFold(n_splits=int(n_splits), shuffle=True, random_state=_seed_from(rng))
    out = np.empty_like(s)
    for train, test in folds.split(s, t):
        cal = template.clone().fit(s[train], t[train])
        out[test] = cal.predict_proba(s[test])
    return out
