"""Fuzzing a resource's ``WWW-Authenticate`` answer (outside input reaching the requests
integration): a retry with readable claims, or no retry; never an exception."""
import base64
import json

from hypothesis import example, given
from hypothesis import strategies as st

from support.fuzzing import deeply_nested, fuzz, json_texts, texts
from nbauth.integrations.challenge import retry_for


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


claims = json_texts.map(b64) | texts
headers = st.builds('Bearer error="{}", claims="{}"'.format,
                    st.sampled_from(["insufficient_claims", "invalid_token", ""]) | texts, claims) | texts


@fuzz(max_examples=300)
@given(header=headers)
@example(header=f'Bearer error="insufficient_claims", claims="{b64(deeply_nested())}"')  # was a RecursionError
@example(header='Bearer error="insufficient_claims", claims="' + b64('{"access_token": NaN}') + '"')
def test_any_challenge_gives_a_retry_with_a_json_object_or_none(header):
    retry = retry_for(header)
    if retry is not None and retry.claims_challenge is not None:
        assert isinstance(json.loads(retry.claims_challenge), dict)
