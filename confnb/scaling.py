"""Calibrators for K classes: temperature and vector scaling of class log-masses, top-label confidence.

Input of the scalers: the K class **log-masses** of each row, an (n, K) array -- the log
of each class's total next-token probability (``log(mass_<class>)``). A softmax does not
see a shift of a whole row, so the masses need not sum to 1; a class with no mass
(``-inf``) is floored at ``exp(-30)`` of its row, which keeps every fit finite. Labels are
class indices 0..K-1, or class names looked up in ``classes=``.

* :class:`TemperatureScaler` -- Guo et al. (2017): ``softmax(log_masses / T)``, one ``T > 0``
  for all classes. Never changes the predicted class, only how sure it sounds.
* :class:`VectorScaler` -- ``softmax(scale_ * log_masses + bias_)``: a scale and a bias per
  class (2K parameters, with a small L2 pull towards "no change"). Can move predictions.
* :class:`TopLabelCalibrator` -- the binary course's calibrators
  (:class:`confnb.calibration.PlattCalibrator`, :class:`~confnb.calibration.IsotonicCalibrator`)
  fit on the top label ``(confidence, correct)``: calibrated P(prediction is correct).

All have the scikit-learn shape (``fit(X, y) -> self``, fitted attributes ending in ``_``);
the scalers' ``predict_proba`` returns (n, K) rows summing to 1, and they save to JSON
(:meth:`TemperatureScaler.save`, :func:`load_scaler`; format ``"confnb.scaler"``, with a
``"kind"`` key). Never evaluate a scaler on the rows it was fit on.

Out of scope: the binary calibrators (:mod:`confnb.calibration`), Dirichlet/matrix scaling
(K**2 parameters: too many for the few hundred labelled rows of a course), and metrics
(:mod:`confnb.multiclass`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError

from ._multiclass_validation import check_classes, check_labels, check_log_masses, check_probs
from .calibration import IsotonicCalibrator, PlattCalibrator
from .multiclass import top_label

__all__ = [
    "SCALER_FORMAT",
    "SCALER_FORMAT_VERSION",
    "TemperatureScaler",
    "TopLabelCalibrator",
    "VectorScaler",
    "load_scaler",
    "softmax",
]

#: Value of the ``format`` field of a saved scaler.
SCALER_FORMAT = "confnb.scaler"
#: Version written by :meth:`TemperatureScaler.save`; :func:`load_scaler` reads versions up to it.
SCALER_FORMAT_VERSION = 1


def softmax(z) -> np.ndarray:
    """Row-wise softmax of an (n, K) array (``-inf`` entries get probability 0).

    Examples
    --------
    >>> softmax([[0.0, np.log(3.0)]]).tolist()
    [[0.25, 0.75]]
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    top = z.max(axis=1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))


class _Scaler:
    """Shared plumbing: checks, fitted-state, JSON."""

    kind = ""
    _fitted_attrs: tuple[str, ...] = ()

    def __init__(self, *, classes=None):
        self.classes = None if classes is None else list(classes)

    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` (or :func:`load_scaler`) has set the fitted attributes."""
        return all(hasattr(self, a) for a in self._fitted_attrs)

    def _check_fitted(self):
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(log_masses, y_true) first "
                                 "or load a saved one with load_scaler(path)")

    def _fit_inputs(self, log_masses, y_true):
        z = check_log_masses(log_masses)
        names = check_classes(self.classes, z.shape[1])
        y = check_labels(y_true, names)
        if y.shape[0] != z.shape[0]:
            raise ValueError(f"y_true has {y.shape[0]} rows but log_masses has {z.shape[0]}; pass one label per row")
        self.classes_, self.n_classes_, self.n_fit_ = list(names), len(names), int(y.shape[0])
        return z, y

    def _predict_inputs(self, log_masses):
        self._check_fitted()
        z = check_log_masses(log_masses)
        if z.shape[1] != self.n_classes_:
            raise ValueError(f"log_masses has {z.shape[1]} columns but the scaler was fit on {self.n_classes_} "
                             f"classes {self.classes_}; pass the same classes in the same order")
        return z

    def predict_proba(self, log_masses) -> np.ndarray:
        """Calibrated class probabilities, (n, K), rows summing to 1.

        Parameters
        ----------
        log_masses : array-like, shape (n, K)
            Log-masses of the same classes, in the same order, as at ``fit``.
        """
        return softmax(self._logits(self._predict_inputs(log_masses)))

    def predict(self, log_masses) -> np.ndarray:
        """Index of the most probable class after scaling, for each row."""
        return self.predict_proba(log_masses).argmax(axis=1)

    # -- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON-ready description written by :meth:`save` (``format``, ``version``, ``kind``, ...)."""
        self._check_fitted()
        params = {a: (np.asarray(getattr(self, a)).tolist()) for a in self._fitted_attrs
                  if a not in ("classes_", "n_classes_", "n_fit_")}
        return {"format": SCALER_FORMAT, "version": SCALER_FORMAT_VERSION, "kind": self.kind,
                "classes": list(self.classes_), "n_fit": self.n_fit_, "options": self._options(), "params": params}

    @classmethod
    def from_dict(cls, data: dict):
        """Rebuild a fitted scaler from :meth:`to_dict`'s output (``ValueError`` if damaged)."""
        if not isinstance(data, dict) or data.get("format") != SCALER_FORMAT:
            raise ValueError(f"not a confnb scaler (expected \"format\": \"{SCALER_FORMAT}\"); pass what "
                             "to_dict/save wrote")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCALER_FORMAT_VERSION:
            raise ValueError(f"scaler format version {version!r} is not one this confnb reads (1 to "
                             f"{SCALER_FORMAT_VERSION}); upgrade confnb or re-create the file")
        kind = data.get("kind")
        target = _KINDS.get(kind)
        if target is None or (cls is not _Scaler and target is not cls):
            raise ValueError(f"unknown or unexpected scaler kind {kind!r}; known: {', '.join(_KINDS)}")
        try:
            classes = list(data["classes"])
            scaler = target(classes=classes, **(data.get("options") or {}))
            scaler._set_params(data["params"], len(classes))
            scaler.classes_, scaler.n_classes_, scaler.n_fit_ = classes, len(classes), int(data["n_fit"])
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f"damaged {target.__name__} description: {err}; re-create it") from None
        return scaler

    def save(self, path) -> Path:
        """Write the fitted scaler as JSON; read it back with :func:`load_scaler`. Returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    def _options(self) -> dict:
        return {}

    def __repr__(self) -> str:
        state = self._describe() if self.is_fitted else "not fitted"
        return f"{type(self).__name__}() [{state}]"


class TemperatureScaler(_Scaler):
    """Temperature scaling (Guo et al. 2017): ``softmax(log_masses / temperature_)``.

    One parameter for all classes, fit by minimising the log loss (NLL) of the calibration
    rows over ``log T`` (bounded scalar search, deterministic). ``T > 1`` softens an
    overconfident model, ``T < 1`` sharpens an underconfident one. Dividing every logit by
    the same ``T`` keeps their order: predictions, accuracy and the confusion matrix are
    unchanged; only confidence moves. The first thing to try: one parameter cannot overfit.

    Parameters
    ----------
    classes : sequence, optional
        Class names in column order (needed when ``y_true`` holds names).

    Attributes
    ----------
    temperature_ : float
    classes_ : list
        Class names (``[0, ..., K-1]`` when none were given).
    n_classes_, n_fit_ : int

    Examples
    --------
    >>> logm = np.log([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])
    >>> scaler = TemperatureScaler().fit(logm, [0, 1, 1, 2])  # one of the 90% calls is wrong
    >>> bool(scaler.temperature_ > 1)
    True
    >>> scaler.predict_proba(logm).sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    kind = "temperature"
    _fitted_attrs = ("temperature_", "classes_", "n_classes_", "n_fit_")
    #: search range for log(temperature): temperatures from about 0.02 to 55
    log_t_bounds = (-4.0, 4.0)

    def fit(self, log_masses, y_true):
        """Fit the temperature on ``(log_masses, y_true)``; returns ``self``."""
        from scipy.optimize import minimize_scalar

        z, y = self._fit_inputs(log_masses, y_true)
        rows = np.arange(y.shape[0])

        def nll(log_t):
            return float(-np.mean(_log_softmax(z / math.exp(log_t))[rows, y]))

        res = minimize_scalar(nll, bounds=self.log_t_bounds, method="bounded", options={"xatol": 1e-8})
        self.temperature_ = float(math.exp(res.x))
        return self

    def _logits(self, z):
        return z / self.temperature_

    def _set_params(self, params, k):
        t = float(params["temperature_"])
        if not (math.isfinite(t) and t > 0):
            raise ValueError(f"temperature_ must be a positive number; got {t!r}")
        self.temperature_ = t

    def _describe(self):
        return f"temperature_={self.temperature_:.3f}, {self.n_classes_} classes, n_fit_={self.n_fit_}"


class VectorScaler(_Scaler):
    """Vector scaling: ``softmax(scale_ * log_masses + bias_)``, a scale and a bias per class.

    2K parameters fit by L-BFGS (scipy) on the mean log loss plus
    ``l2 * (sum((scale_ - 1)**2) + sum(bias_**2))``: a small pull towards "no change", which
    also pins the bias (a softmax ignores a constant added to every class). Unlike
    :class:`TemperatureScaler` it can change predictions -- it can undo a prompt's tilt
    towards one class.

    When it earns its place: only when miscalibration differs between classes (one class
    over-predicted, or classes of different sharpness) and there are enough labelled rows
    per class. Measured on synthetic 4-class data (true logits N(0, 2**2), labels drawn from
    them; 2000 rows to fit, 20 000 to evaluate), with the observed logits 2.5, 2.5, 1, 1 times
    as sharp as the true ones and class 0 tilted up by 1.5: test log loss raw 1.278,
    temperature 0.926, vector 0.842 (true model 0.760); accuracy 0.611 -> 0.611 -> 0.664
    (true 0.693); top-label ECE 0.214 -> 0.044 -> 0.025. With one shared miscalibration
    (every logit 2.5 times too sharp) the two tie (0.761 and 0.761, true 0.760): then
    prefer temperature -- one parameter, predictions unchanged.
    ``tests/test_multiclass.py`` re-measures both cases.

    Both scalers see row-normalised log-probabilities (``log_masses`` minus each row's
    log-sum-exp). Temperature scaling is unaffected; vector scaling, whose per-class scales
    do not commute with a row shift, then does not depend on how much mass fell outside the
    classes (the scorer's ``other_mass``).

    Parameters
    ----------
    l2 : float, default 1e-3
        Strength of the pull towards ``scale_ = 1``, ``bias_ = 0``.
    classes : sequence, optional
        Class names in column order.

    Attributes
    ----------
    scale_, bias_ : ndarray, shape (K,)
    classes_ : list
    n_classes_, n_fit_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> logm = rng.normal(size=(300, 3))
    >>> y = (softmax(logm).cumsum(1) > rng.uniform(size=(300, 1))).argmax(1)  # labels drawn from logm
    >>> scaler = VectorScaler().fit(logm + [1.0, 0.0, 0.0], y)  # class 0's mass inflated e-fold
    >>> int(np.argmin(scaler.bias_))  # vector scaling takes it back down
    0
    """

    kind = "vector"
    _fitted_attrs = ("scale_", "bias_", "classes_", "n_classes_", "n_fit_")

    def __init__(self, *, l2: float = 1e-3, classes=None):
        super().__init__(classes=classes)
        l2 = float(l2)
        if not (math.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2 must be a non-negative number (1e-3 is typical); got {l2!r}")
        self.l2 = l2

    def fit(self, log_masses, y_true):
        """Fit per-class scale and bias on ``(log_masses, y_true)``; returns ``self``."""
        from scipy.optimize import minimize

        z, y = self._fit_inputs(log_masses, y_true)
        n, k = z.shape
        onehot = np.eye(k)[y]

        def loss(theta):
            w, b = theta[:k], theta[k:]
            logp = _log_softmax(z * w + b)
            value = -np.sum(logp * onehot) / n + self.l2 * (np.sum((w - 1) ** 2) + np.sum(b**2))
            resid = (np.exp(logp) - onehot) / n
            grad_w = np.sum(resid * z, axis=0) + 2 * self.l2 * (w - 1)
            grad_b = np.sum(resid, axis=0) + 2 * self.l2 * b
            return value, np.concatenate([grad_w, grad_b])

        start = np.concatenate([np.ones(k), np.zeros(k)])
        res = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-9})
        self.scale_, self.bias_ = res.x[:k].copy(), res.x[k:].copy()
        return self

    def _logits(self, z):
        return z * self.scale_ + self.bias_

    def _options(self):
        return {"l2": self.l2}

    def _set_params(self, params, k):
        scale = np.asarray(params["scale_"], dtype=float)
        bias = np.asarray(params["bias_"], dtype=float)
        if scale.shape != (k,) or bias.shape != (k,) or not (np.isfinite(scale).all() and np.isfinite(bias).all()):
            raise ValueError(f"scale_ and bias_ must be {k} finite numbers each (one per class)")
        self.scale_, self.bias_ = scale, bias

    def _describe(self):
        return (f"scale_={np.round(self.scale_, 3).tolist()}, bias_={np.round(self.bias_, 3).tolist()}, "
                f"n_fit_={self.n_fit_}")


_KINDS = {"temperature": TemperatureScaler, "vector": VectorScaler}


def load_scaler(path):
    """Read a scaler written by :meth:`TemperatureScaler.save` / :meth:`VectorScaler.save`.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not JSON, not a confnb scaler, an unknown version or kind, or damaged parameters.

    Examples
    --------
    >>> import tempfile, os
    >>> logm = np.log([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> scaler = TemperatureScaler(classes=["no", "yes"]).fit(logm, ["no", "yes", "yes", "no"])
    >>> back = load_scaler(scaler.save(os.path.join(tempfile.mkdtemp(), "scaler.json")))
    >>> back.classes_, back.temperature_ == scaler.temperature_
    (['no', 'yes'], True)
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err.msg}, line {err.lineno}); re-create it with "
                         "scaler.save(path)") from None
    try:
        return _Scaler.from_dict(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


class TopLabelCalibrator:
    """Calibrated P(prediction is correct) for K classes: a binary calibrator on the top label.

    Fits :class:`confnb.calibration.PlattCalibrator` (``method="platt"``) or
    :class:`~confnb.calibration.IsotonicCalibrator` (``"isotonic"``) on
    ``(confidence, correct)`` = ``(probs.max(1), probs.argmax(1) == y_true)`` -- the
    course's **confidence** target. The prediction stays ``argmax``; only its confidence is
    recalibrated (it may fall below 0.5: "such predictions are right less than half the
    time", see :mod:`confnb.calibration`). For calibrated probabilities of every class use
    a scaler instead.

    Parameters
    ----------
    method : {"platt", "isotonic"}, default "platt"
    classes : sequence, optional
        Class names (needed when ``y_true`` holds names).

    Attributes
    ----------
    calibrator_ : PlattCalibrator or IsotonicCalibrator
        Fitted with ``target="confidence"``; save it with its own ``save``.

    Examples
    --------
    >>> probs = [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6], [0.1, 0.85, 0.05]]
    >>> cal = TopLabelCalibrator().fit(probs, [0, 1, 1, 2, 1])
    >>> conf = cal.predict_confidence(probs)
    >>> conf.shape, bool(((0 <= conf) & (conf <= 1)).all())
    ((5,), True)
    """

    def __init__(self, method: str = "platt", *, classes=None):
        if method not in ("platt", "isotonic"):
            raise ValueError(f"method must be 'platt' or 'isotonic'; got {method!r}")
        self.method = method
        self.classes = None if classes is None else list(classes)

    def fit(self, probs, y_true):
        """Fit on the top label of ``(probs, y_true)``; returns ``self``."""
        correct, confidence = top_label(y_true, probs, classes=self.classes)
        cls = PlattCalibrator if self.method == "platt" else IsotonicCalibrator
        self.calibrator_ = cls(target="confidence").fit(confidence, correct)
        return self

    def predict_confidence(self, probs) -> np.ndarray:
        """Calibrated P(correct) of each row's predicted class (``probs.argmax(1)``), shape (n,)."""
        if not hasattr(self, "calibrator_"):
            raise NotFittedError("TopLabelCalibrator is not fitted yet; call fit(probs, y_true) first")
        p, _ = check_probs(probs, classes=self.classes)
        return self.calibrator_.predict_proba(p.max(axis=1))

    def __repr__(self) -> str:
        state = repr(self.calibrator_) if hasattr(self, "calibrator_") else "not fitted"
        return f"TopLabelCalibrator(method={self.method!r}) [{state}]"
