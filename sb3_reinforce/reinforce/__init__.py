from sb3_reinforce.reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_reinforce.reinforce.reinforce import PLAIN_REINFORCE, Reinforce

__all__ = ["PLAIN_REINFORCE", "CnnPolicy", "MlpPolicy", "MultiInputPolicy", "Reinforce"]
