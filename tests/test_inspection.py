import numpy as np
import pandas as pd
import pytest

from confnb.inspection import TokenRank, most_uncertain, rank_in_table, token_rank, top_k_scores
from confnb.scoring import score_distribution

IDS = {"positive": [0, 1, 2], "negative": [3, 4]}


def _random_logprobs(n_rows=6, n_vocab=40, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n_rows, n_vocab)) * 2
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


# ------------------------------------------------------------------------------- rank_in_table


def test_rank_in_table_finds_the_best_ranked_spelling():
    table = pd.DataFrame({"rank": [1, 2, 3, 4], "token": ["↵", "␣Who", "Who", "␣A"], "percent": [30.0, 5.0, 4.0, 1.0]})
    found = rank_in_table(table, ["Who", " Who"])
    assert found == TokenRank(top_token="↵", top_percent=30.0, rank=2, percent=5.0, k=4)
    assert found.to_dict() == {"top token": "↵", "top %": 30.0, "rank": 2, "%": 5.0}


def test_rank_in_table_reports_absence_with_the_search_depth():
    table = pd.DataFrame({"rank": [1, 2], "token": ["␣The", "␣A"], "percent": [9.0, 8.0]})
    found = rank_in_table(table, ["Who"])
    assert found.rank is None and np.isnan(found.percent)
    assert found.to_dict()["rank"] == "> 2"


def test_rank_in_table_rejects_bad_input():
    table = pd.DataFrame({"rank": [1], "token": ["␣Who"], "percent": [9.0]})
    with pytest.raises(TypeError, match="wrap it"):
        rank_in_table(table, "Who")
    with pytest.raises(ValueError, match="next_token_table"):
        rank_in_table(table.drop(columns="percent"), ["Who"])
    with pytest.raises(ValueError, match="empty"):
        rank_in_table(table.iloc[:0], ["Who"])


def test_token_rank_on_the_embedded_model(lm):
    dialogue = token_rank(lm, "Here is a knock-knock joke.\n\nA: Knock knock.\nB:", ["Who", " Who"], k=50)
    assert dialogue.rank == 1 and dialogue.top_token == "␣Who"
    assert dialogue.percent == pytest.approx(dialogue.top_percent)
    bare = token_rank(lm, "Knock knock.", ["Who", " Who"], k=500)
    assert bare.rank is not None and bare.rank > 1 and bare.top_token != "␣Who"


# ------------------------------------------------------------------------------ most_uncertain


def test_most_uncertain_orders_by_distance_from_half_and_keeps_the_index():
    scores = pd.DataFrame({"text": list("abcde"), "p_positive": [0.9, 0.45, 0.52, 0.1, 0.5]}, index=[10, 11, 12, 13, 14])
    picked = most_uncertain(scores, n=3)
    assert list(picked.index) == [14, 12, 11]
    assert picked["distance_from_half"].tolist() == pytest.approx([0.0, 0.02, 0.05])
    assert "distance_from_half" not in scores.columns  # the input is not modified
    assert len(most_uncertain(scores, n=99)) == 5


def test_most_uncertain_rejects_bad_input():
    with pytest.raises(ValueError, match="p_positive"):
        most_uncertain(pd.DataFrame({"text": ["a"]}))
    with pytest.raises(ValueError, match="positive integer"):
        most_uncertain(pd.DataFrame({"p_positive": [0.5]}), n=0)


# -------------------------------------------------------------------------------- top_k_scores


def test_top_k_with_the_whole_vocabulary_equals_full_scoring():
    lp = _random_logprobs()
    full = score_distribution(lp, IDS)
    shown = top_k_scores(lp, IDS, k=lp.shape[1])
    for col in ["total_probability", "p_positive", "mass_positive", "mass_negative", "other_mass"]:
        assert np.allclose(shown[col], full[col]), col
    assert (shown["prediction"].to_numpy() == full["prediction"]).all()
    assert np.allclose(shown["unseen_mass"], 0.0, atol=1e-12)


def test_top_k_masses_are_lower_bounds_and_unseen_mass_bounds_the_gap():
    lp = _random_logprobs(n_rows=20, seed=1)
    full = score_distribution(lp, IDS)
    previous = None
    for k in (1, 3, 5, 10, 20, 40):
        shown = top_k_scores(lp, IDS, k=k)
        top = np.sort(np.exp(lp), axis=1)[:, -k:].sum(axis=1)
        assert np.allclose(shown["unseen_mass"], 1 - top)
        for cls in IDS:
            mass = shown[f"mass_{cls}"].to_numpy()
            assert (mass <= full[f"mass_{cls}"] + 1e-12).all()
            assert (full[f"mass_{cls}"] <= mass + shown["unseen_mass"].to_numpy() + 1e-12).all()
            if previous is not None:
                assert (mass >= previous[f"mass_{cls}"].to_numpy() - 1e-12).all()
        assert (shown["other_mass"] >= shown["unseen_mass"] - 1e-12).all()
        previous = shown


def test_top_1_shows_one_class_only_and_warns_nothing():
    lp = np.log([[0.6, 0.0001, 0.0001, 0.3, 0.0998]])
    with np.errstate(all="raise"):
        shown = top_k_scores(lp, IDS, k=1)
    row = shown.iloc[0]
    assert row["prediction"] == "positive" and row["p_positive"] == 1.0
    assert row["mass_negative"] == 0.0 and row["unseen_mass"] == pytest.approx(0.4)


def test_top_k_with_no_class_shown_has_undefined_p_positive():
    lp = np.log([[0.01, 0.01, 0.01, 0.01, 0.01, 0.95]])
    row = top_k_scores(lp, IDS, k=1).iloc[0]
    assert row["mass_positive"] == 0.0 and row["mass_negative"] == 0.0
    assert np.isnan(row["p_positive"]) and row["other_mass"] == pytest.approx(1.0)


def test_top_k_rejects_bad_k():
    with pytest.raises(ValueError, match="positive integer"):
        top_k_scores(np.log([[0.5, 0.5]]), {"positive": [0], "negative": [1]}, k=0)
