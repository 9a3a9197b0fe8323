"""The demo product catalogue: ~200 products, fixed for a seed, priced in EUR.

Orders and carts are priced in the buyer's currency: the EUR price converted at a fixed rate and
rounded up to the next ``.99``. Prices are ``Decimal`` so totals add up to the cent.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["PRODUCT_COUNT", "Catalog", "Product", "make_catalog"]

PRODUCT_COUNT = 200
_RATES = {"EUR": 1.0, "GBP": 0.86, "USD": 1.08, "PLN": 4.30}
_COLOURS = ("Black", "Navy", "Grey", "Olive", "White", "Burgundy", "Sand", "Forest Green")

# (category, adjectives, nouns, EUR price range, comes in colours)
_CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, int], bool], ...] = (
    (
        "Apparel",
        ("Organic Cotton", "Merino Wool", "Linen", "Recycled", "Slim Fit", "Classic"),
        ("T-Shirt", "Hoodie", "Jeans", "Rain Jacket", "Sweater", "Chinos", "Polo Shirt", "Dress"),
        (15, 120),
        True,
    ),
    (
        "Footwear",
        ("Leather", "Trail", "Canvas", "Waterproof", "Lightweight"),
        ("Sneakers", "Boots", "Running Shoes", "Sandals", "Loafers"),
        (35, 180),
        True,
    ),
    (
        "Electronics",
        ("Wireless", "Smart", "Portable", "Noise-Cancelling", "Compact"),
        (
            "Earbuds",
            "Bluetooth Speaker",
            "Headphones",
            "Fitness Tracker",
            "Power Bank",
            "Smart Watch",
            "USB-C Charger",
        ),
        (19, 350),
        False,
    ),
    (
        "Home & Kitchen",
        ("Stainless Steel", "Ceramic", "Bamboo", "Cast Iron", "Glass"),
        ("Frying Pan", "Mug Set", "Chef's Knife", "Cutting Board", "French Press", "Storage Jars"),
        (9, 140),
        False,
    ),
    (
        "Beauty",
        ("Hydrating", "Vitamin C", "Fragrance-Free", "Night", "Mineral"),
        ("Face Cream", "Serum", "Shampoo", "Body Lotion", "Lip Balm", "Sunscreen SPF 50"),
        (5, 65),
        False,
    ),
    (
        "Sports & Outdoors",
        ("Ultralight", "Insulated", "Adjustable", "Foldable", "Pro"),
        ("Yoga Mat", "Water Bottle", "Backpack", "Tent", "Dumbbell Set", "Cycling Gloves"),
        (10, 250),
        False,
    ),
    (
        "Toys & Games",
        ("Wooden", "Classic", "Educational", "Deluxe"),
        ("Puzzle", "Board Game", "Building Blocks", "Card Game", "Plush Bear"),
        (8, 60),
        False,
    ),
    (
        "Accessories",
        ("Leather", "Canvas", "Silk", "Recycled"),
        ("Wallet", "Belt", "Scarf", "Tote Bag", "Sunglasses", "Cap"),
        (12, 110),
        True,
    ),
)


@dataclass(frozen=True, slots=True)
class Product:
    """One catalogue product; ``price`` in EUR."""

    sku: str
    name: str
    category: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Catalog:
    """The products and, per currency, each product's local price (same order)."""

    products: tuple[Product, ...]
    local_prices: dict[str, tuple[Decimal, ...]]

    def price(self, index: int, currency: str) -> Decimal:
        """The unit price of ``products[index]`` in ``currency`` (``KeyError`` if unknown)."""
        return self.local_prices[currency][index]


def make_catalog(seed: int) -> Catalog:
    """The catalogue for ``seed``: SKUs ``SKU-00001`` .. ``SKU-00200``."""
    rng = random.Random(f"{seed}/catalog")
    products = []
    for number in range(1, PRODUCT_COUNT + 1):
        category, adjectives, nouns, (low, high), coloured = rng.choice(_CATEGORIES)
        name = f"{rng.choice(adjectives)} {rng.choice(nouns)}"
        if coloured:
            name = f"{name}, {rng.choice(_COLOURS)}"
        cents = "0.99" if rng.random() < 0.8 else "0.00"
        price = Decimal(rng.randint(low, high)) + Decimal(cents)
        products.append(Product(f"SKU-{number:05d}", name, category, price))
    local = {
        currency: tuple(_local_price(p.price, rate) for p in products)
        for currency, rate in _RATES.items()
    }
    return Catalog(products=tuple(products), local_prices=local)


def _local_price(eur: Decimal, rate: float) -> Decimal:
    if rate == 1.0:
        return eur
    return Decimal(math.ceil(float(eur) * rate)) - Decimal("0.01")
