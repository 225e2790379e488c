from typing import Any, Dict, Optional

import numpy as np

def request_features(request: Dict[str, Any]) -> np.ndarray: ...
def classification_answer(logits: Any, temperature: float = 1.0,
                          top_k: Optional[int] = None) -> Dict[str, Any]: ...
