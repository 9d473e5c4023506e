"""Output serializers of "your vibe" (users/vibe.py) and of a city's dominant attributes, for
the recommendation endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import vibe
from ..selectors.vibe import DOMINANT_COUNT, DOMINANT_MIN


class LeanSerializer(serializers.Serializer):
    attribute = serializers.CharField(help_text="The attribute model's label, e.g. 'waterfront'.")
    effect = serializers.FloatField(
        help_text="Posterior mean change in the chance of a like (-1..1; 0.2 = 20 points) when "
        "a photo shows the attribute rather than not, the other attributes held equal."
    )
    probability = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="Posterior probability that the effect has this side's sign (positive in "
        "`leans_to`, negative in `leans_away_from`).",
    )


class VibeSerializer(serializers.Serializer):
    leans_to = LeanSerializer(
        many=True,
        help_text=f"Attributes you lean to: P(effect > 0) ≥ {vibe.LEAN_PROBABILITY} (or ≥ "
        f"{vibe.TASTE_LEAN_PROBABILITY} once the swipes show a taste at all with probability "
        f"≥ {vibe.TASTE_PROBABILITY}) and an effect of at least {vibe.MIN_EFFECT}; the "
        f"strongest first, at most {vibe.MAX_LEANS}.",
    )
    leans_away_from = LeanSerializer(many=True, help_text="The same for negative effects.")
    summary = serializers.CharField(
        help_text="In plain words, e.g. 'waterfront, night; not fog'; empty when `reason` says "
        "why there is no vibe yet."
    )
    sureness = serializers.ChoiceField(
        choices=list(vibe.SURENESS_LABELS),
        help_text="How sure the whole summary is: from the lower bound 1 - Σ(1 - probability) "
        "on every named lean being right: very sure ≥ 0.95, fairly sure ≥ 0.8, else a first "
        "guess; 'no clear lean yet' when nothing is named.",
    )
    sure_at_least = serializers.FloatField(
        allow_null=True,
        help_text="That lower bound (null when nothing is named).",
    )
    swipes_used = serializers.IntegerField(
        help_text="Your swipes whose photo the attribute model described."
    )
    reason = serializers.CharField(
        help_text="Why there is no vibe yet (too few swipes, no attribute model); empty otherwise."
    )


class CityAttributesMixin(serializers.Serializer):
    """A city's dominant attributes, from the ``attributes`` {slug: labels} in the context."""

    attributes = serializers.SerializerMethodField(
        help_text=f"The city's dominant attributes: up to {DOMINANT_COUNT} labels whose mean "
        f"probability over its deck photos is at least {DOMINANT_MIN}, the largest first "
        "(empty without an attribute model)."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_attributes(self, city) -> list[str]:
        return self.context.get("attributes", {}).get(city.slug, [])
