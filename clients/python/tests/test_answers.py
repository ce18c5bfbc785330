"""The answer types carry every field of their messages."""

import dataclasses
import unittest

import aiconfig
from aiconfig.v1 import author_profile_pb2, config_pb2, content_strategy_pb2, prompt_pb2


class AnswersTest(unittest.TestCase):
    def test_every_field_of_the_message(self):
        # A field added to the proto must be added here too, or workers
        # silently never see it.
        for cls, msg in [(aiconfig.ModelConfig, config_pb2.ModelConfig), (aiconfig.EffectivePrompt, prompt_pb2.EffectivePrompt),
                         (aiconfig.AuthorProfile, author_profile_pb2.AuthorProfile),
                         (aiconfig.ContentStrategy, content_strategy_pb2.ContentStrategy),
                         (aiconfig.GenerationContext, config_pb2.GenerationContext)]:
            with self.subTest(cls.__name__):
                self.assertEqual({f.name for f in dataclasses.fields(cls)}, set(msg.DESCRIPTOR.fields_by_name))

    def test_a_context_without_profile_or_strategy(self):
        g = aiconfig.GenerationContext.from_pb(config_pb2.GenerationContext(
            model_config=config_pb2.ModelConfig(model="gpt-4.1", api_key="sk-hidden-SECRET"),
            prompt=prompt_pb2.EffectivePrompt(prompt_type="ideas"), revision=7))
        self.assertIsNone(g.author_profile)
        self.assertIsNone(g.content_strategy)
        self.assertEqual((g.api_key, g.revision), ("sk-hidden-SECRET", 7))
        self.assertNotIn("SECRET", repr(g))
        self.assertNotIn("SECRET", str(g))


if __name__ == "__main__":
    unittest.main()
