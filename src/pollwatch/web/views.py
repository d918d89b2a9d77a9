from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pollwatch.registry import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"elections": selectors.elections_with_totals()})
