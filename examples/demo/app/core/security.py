from __future__ import annotations

from fastapi import Header, HTTPException


async def get_current_user_company(x_company_id: int | None = Header(default=None)) -> int:
    if x_company_id is None:
        raise HTTPException(status_code=401, detail="No company in token")
    return x_company_id
