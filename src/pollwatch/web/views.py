from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pollwatch.registry.models import Election


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"elections": Election.objects.all()})
